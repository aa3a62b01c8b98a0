//! `airlock mcp`: installed skills as MCP tools over stdio, for agent
//! front-ends (Claude Code, Continue, Cline, goose, Codex, ...).
//!
//! Each tool call is one audited run of the skill in a fresh sandbox
//! instance under the profile, with the plugin's files and signature checked
//! again first. Nobody can be asked over MCP, so whatever the profile says to
//! ask about is refused. The protocol is the official SDK's (`rmcp`); this
//! module puts a line filter in front of it (`stdio`), so malformed input is
//! answered with a JSON-RPC error and never ends the session.

mod schema;
mod stdio;

use crate::exit::{Exit, Failure};
use airlock_runtime::clock::Cancel;
use airlock_runtime::{Event, Request};
use airlock_session::launch::failure_events;
use airlock_session::{Hooks, LaunchError, Launcher, Prepared, SkillSpec};
use airlock_trust::store::PluginStore;
use clap::Args;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler, ServiceExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub const HELP: &str = "\
Serves installed plugins as MCP tools on stdin/stdout (JSON-RPC, one message
per line), for an agent front-end that starts `airlock mcp` as a stdio
server. Each tool call runs the skill once, in a fresh sandbox under the
profile, audited like `airlock run`; the plugin's files and signature are
checked again before every call. Nobody can be asked over MCP: edits and
commands the profile says to ask about are refused, naming the profile key
(e.g. `edits.mode`); a profile can allow them. Only the protocol goes to
stdout; diagnostics go to stderr. Malformed input gets a JSON-RPC error
(-32700, -32600) and the session goes on.

Each tool is named like its plugin and takes `input` (free text, as
`airlock run --input`) and `args` (string values, as `airlock run --arg
KEY=VALUE`); the args a skill describes are listed in its schema.

Examples:
  airlock mcp -w ~/src/project                      (every installed plugin)
  airlock mcp -w . --skill secret-scan --skill repo-map
  airlock mcp -w . --profile read-only              (one profile for every call)
  claude mcp add airlock -- airlock mcp -w /path/to/project

Where to look afterwards: every result ends `audit: run ID`, and its
structured content has `run-id`, `status` and the findings.
  airlock audit show --since 1h                     (what the tools did)
  airlock audit show --run ID --json                (one call: accesses, denials)
  airlock audit verify                              (the trail is intact)

docs/mcp.md shows how to register it in Claude Code, Codex, goose,
Continue, Cline and Cursor.

Exit codes:
  0   the client closed the session (end of stdin)
  2   usage error: no plugins installed, --skill names one that is not
      installed, bad workspace or profile, or the session did not start
  3   a plugin was refused at start (signature, admin policy, model drift)
  6   the audit log cannot be written
A failed or refused tool call does not end the session: it is an error
result (isError) with the reason, and the next call can go ahead.";

#[derive(Debug, Args)]
pub struct McpArgs {
    /// The workspace every tool call works on.
    #[arg(short, long, value_name = "DIR", default_value = ".")]
    pub workspace: PathBuf,

    /// The profile for every call: a built-in or admin-installed profile's
    /// name, or a file's path such as ./p.toml [default: each plugin's
    /// profile reviewed at install].
    #[arg(short, long, value_name = "NAME|PATH")]
    pub profile: Option<String>,

    /// Serve only this installed plugin (repeatable) [default: all].
    #[arg(short, long = "skill", value_name = "NAME")]
    pub skills: Vec<String>,
}

/// One served skill.
struct Served {
    tool: Tool,
    prepared: Prepared,
}

/// The MCP server: the launcher and the skills it serves, shared with the
/// runs it starts.
struct Server {
    state: Arc<State>,
}

struct State {
    launcher: Launcher,
    served: Vec<Served>,
    /// Permits for runs at once: one per instance slot of the engine.
    runs: Arc<tokio::sync::Semaphore>,
}

/// Tool calls that run at once. Each run has its own store, budget, journal,
/// audit record and undo record; what they share (the engine's instance
/// slots, the audit log's writer, the model backends) is either locked or
/// counted. A client that sends more calls than the engine has slots gets
/// them run in turn, not failed for want of a slot.
const MAX_CONCURRENT_RUNS: usize = airlock_runtime::engine::MAX_CONCURRENT_SKILLS as usize;

pub fn mcp(args: McpArgs, home: Option<PathBuf>, config: Option<&Path>) -> Result<Exit, Failure> {
    let launcher = Launcher::open(home.as_deref(), config)?;
    // The admin policy decides whether this door exists and what it serves.
    let gate = |f: Failure| super::refused(&launcher, "airlock mcp", f);
    let policy = super::policy::load_for_mcp().map_err(gate)?;
    let installed = installed_names(&launcher.home);
    let names = served_names(&installed, &args.skills)?;
    let names =
        super::policy::mcp_plugins(&policy, names, !args.skills.is_empty()).map_err(gate)?;
    let rt = super::session_runtime()?;
    rt.block_on(async move {
        let mut served = Vec::new();
        for name in &names {
            let spec = SkillSpec {
                skill: PathBuf::from(name),
                allow_unsigned: false,
                profile: args.profile.clone(),
                workspace: args.workspace.clone(),
            };
            let prepared = launcher.prepare(&spec, &super::Spinner::new()).await?;
            policy
                .check_mcp_profile(name, &prepared.profile)
                .map_err(|m| launcher.refused(name, LaunchError::Violation(m)))?;
            let described = launcher
                .airlock
                .describe(&prepared.skill)
                .await
                .map_err(|e| Failure::new(Exit::Refused, format!("plugin `{name}`: {e}")))?;
            let manifest = PluginStore::open(&launcher.home)
                .get(name)
                .map(|i| i.manifest.description)
                .unwrap_or_default();
            let tool = schema::tool(name, &manifest, &described.summary, &prepared.profile.name);
            served.push(Served { tool, prepared });
        }
        eprintln!(
            "airlock mcp: serving {} on stdio, workspace {}",
            names.join(", "),
            served
                .first()
                .map(|s| s.prepared.workspace.display().to_string())
                .unwrap_or_default()
        );
        let server = Server {
            state: Arc::new(State {
                launcher,
                served,
                runs: Arc::new(tokio::sync::Semaphore::new(MAX_CONCURRENT_RUNS)),
            }),
        };
        let (input, output, drain) = stdio::filtered();
        let service = match server.serve((input, output)).await {
            Ok(service) => service,
            Err(e) => {
                drain.finish().await;
                return Err(Failure::new(
                    Exit::Usage,
                    format!("the MCP session did not start: {e}"),
                ));
            }
        };
        let ended = service.waiting().await;
        // The SDK's last replies reach stdout before the process ends.
        drain.finish().await;
        ended.map_err(|e| Failure::new(Exit::Internal, format!("the MCP session failed: {e}")))?;
        Ok(Exit::Success)
    })
}

/// The names of the installed plugins, sorted, each once (the store lists
/// every installed version).
fn installed_names(home: &Path) -> Vec<String> {
    let mut names: Vec<String> = PluginStore::open(home)
        .list()
        .into_iter()
        .map(|i| i.manifest.name)
        .collect();
    names.sort();
    names.dedup();
    names
}

/// The plugins to serve: every installed one, or those `--skill` names
/// (each once, in the order given). Naming one that is not installed is a
/// usage error, before anything is served.
fn served_names(installed: &[String], requested: &[String]) -> Result<Vec<String>, Failure> {
    if installed.is_empty() {
        return Err(Failure::usage(
            "no plugins are installed, so there is nothing to serve: install one with `airlock plugin install PACKAGE`",
        ));
    }
    if requested.is_empty() {
        return Ok(installed.to_vec());
    }
    let mut names: Vec<String> = Vec::new();
    for name in requested {
        if !installed.contains(name) {
            return Err(Failure::usage(format!(
                "--skill {name}: no plugin named `{name}` is installed (installed: {}); `airlock mcp` serves installed plugins only, see `airlock plugin list`",
                installed.join(", ")
            )));
        }
        if !names.contains(name) {
            names.push(name.clone());
        }
    }
    Ok(names)
}

impl ServerHandler for Server {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("airlock", env!("CARGO_PKG_VERSION")))
            .with_instructions(
                "Airlock's sandboxed skills. Each call runs offline, in a fresh sandbox that \
                 sees only the workspace the profile grants (never secrets, never the network), \
                 and is recorded in the local audit log. Edits and commands that need a \
                 person's approval are refused over MCP.",
            )
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(
            self.state.served.iter().map(|s| s.tool.clone()).collect(),
        ))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let served = &self.state.served;
        let Some(index) = served.iter().position(|s| s.tool.name == request.name) else {
            return Err(ErrorData::invalid_params(
                format!(
                    "no tool named `{}`; tools: {}",
                    request.name,
                    served
                        .iter()
                        .map(|s| s.tool.name.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                None,
            ));
        };
        let run_request = match schema::request(request.arguments.as_ref()) {
            Ok(r) => r,
            Err(message) => return Err(ErrorData::invalid_params(message, None)),
        };
        Ok(self.call(index, run_request, &context).await.into())
    }
}

impl Server {
    /// Run the skill once; every outcome is a tool result (an error result
    /// when the run failed or was refused), never a protocol error.
    async fn call(
        &self,
        index: usize,
        request: Request,
        context: &RequestContext<RoleServer>,
    ) -> CallToolResult {
        let Some(served) = self.state.served.get(index) else {
            return error_result("no such tool".into(), None);
        };
        let name = served.tool.name.to_string();
        if let Err(refusal) = self.state.launcher.recheck(&served.prepared) {
            return error_result(format!("refused: {refusal}"), None);
        }
        // Wait for a slot; a client's cancellation ends the wait too.
        let permit = tokio::select! {
            permit = Arc::clone(&self.state.runs).acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => return error_result("the server is shutting down".into(), None),
            },
            () = context.ct.cancelled() => {
                return error_result(format!("`{name}` was cancelled before it started"), None);
            }
        };
        // A client's cancellation stops the run.
        let cancel = Cancel::new();
        let watcher = {
            let cancel = cancel.clone();
            let ct = context.ct.clone();
            tokio::spawn(async move {
                ct.cancelled().await;
                cancel.cancel();
            })
        };
        // The skill runs on a blocking thread: a skill computing never
        // yields, and on a runtime worker it would hold up the session
        // (other calls, pings, this call's cancellation) until it ends.
        let state = Arc::clone(&self.state);
        let runtime = tokio::runtime::Handle::current();
        let run = tokio::task::spawn_blocking(move || {
            // Held until the run ends, even if this call's task is dropped.
            let _permit = permit;
            runtime.block_on(async {
                let hooks = Hooks {
                    sink: None,
                    approver: None,
                    cancel: Some(cancel),
                    fail_on: None,
                };
                match state.served.get(index) {
                    Some(served) => Some(
                        state
                            .launcher
                            .execute(&served.prepared, &request, hooks)
                            .await,
                    ),
                    None => None,
                }
            })
        })
        .await;
        watcher.abort();
        let finished = match run {
            Ok(Some(Ok(f))) => f,
            Ok(Some(Err(failure))) => {
                return error_result(format!("`{name}` did not run: {failure}"), None);
            }
            Ok(None) => return error_result("no such tool".into(), None),
            Err(e) => return error_result(format!("`{name}` did not finish: {e}"), None),
        };
        let status = finished.status;
        let run_id = finished.run_id.clone();
        match finished.outcome {
            Ok(report) => {
                let mut text = report.output.clone().unwrap_or_default();
                if let Some(error) = &report.error {
                    text = format!("skill `{name}` failed: {error}\n{text}");
                }
                let denied = denials(&report.events);
                if !denied.is_empty() {
                    text.push_str(&format!("\nDenied by the sandbox:\n{denied}"));
                }
                text.push_str(&format!("\naudit: run {run_id}"));
                let structured = serde_json::json!({
                    "status": status.as_str(),
                    "exit-code": status.code(),
                    "run-id": run_id,
                    "findings": report.findings,
                    "denied": denied_list(&report.events),
                });
                // A run in which the sandbox refused something the skill
                // tried (an edit nobody could approve, say) did not do what
                // was asked: the client should know.
                let mut result = if report.error.is_some() || !denied.is_empty() {
                    CallToolResult::error(vec![ContentBlock::text(text)])
                } else {
                    CallToolResult::success(vec![ContentBlock::text(text)])
                };
                result.structured_content = Some(structured);
                result
            }
            Err(failure) => {
                let denied = denials(failure_events(&failure));
                let mut text = format!("`{name}` stopped: {failure}");
                if !denied.is_empty() {
                    text.push_str(&format!("\nDenied by the sandbox:\n{denied}"));
                }
                text.push_str(&format!("\naudit: run {run_id}"));
                error_result(
                    text,
                    Some(serde_json::json!({
                        "denied": denied_list(failure_events(&failure)),
                        "status": status.as_str(),
                        "exit-code": status.code(),
                        "run-id": run_id,
                    })),
                )
            }
        }
    }
}

fn error_result(text: String, structured: Option<serde_json::Value>) -> CallToolResult {
    let mut result = CallToolResult::error(vec![ContentBlock::text(text)]);
    result.structured_content = structured;
    result
}

/// The sandbox's refusals during a run, one per line.
fn denials(events: &[Event]) -> String {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Denied {
                capability,
                path,
                reason,
            } => Some(format!("  {capability} `{path}`: {reason}\n")),
            _ => None,
        })
        .collect()
}

/// The sandbox's refusals during a run, for the structured result.
fn denied_list(events: &[Event]) -> Vec<serde_json::Value> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Denied {
                capability,
                path,
                reason,
            } => Some(serde_json::json!({
                "capability": capability,
                "path": path,
                "reason": reason,
            })),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skill_names_must_be_installed_and_are_served_once() {
        let installed = ["repo-map".to_string(), "secret-scan".to_string()];
        let served = |requested: &[&str]| {
            let requested: Vec<String> = requested.iter().map(|s| s.to_string()).collect();
            served_names(&installed, &requested)
        };
        assert_eq!(served(&[]).expect("all"), installed);
        assert_eq!(
            served(&["secret-scan", "secret-scan"]).expect("one"),
            ["secret-scan"]
        );
        let unknown = served(&["secret-scan", "./skill.wasm"]).expect_err("unknown");
        assert_eq!(unknown.code(), Exit::Usage);
        let message = unknown.to_string();
        assert!(
            message.contains("no plugin named `./skill.wasm` is installed"),
            "{message}"
        );
        assert!(
            message.contains("installed: repo-map, secret-scan"),
            "{message}"
        );
        let none = served_names(&[], &[]).expect_err("nothing installed");
        assert_eq!(none.code(), Exit::Usage);
    }

    #[test]
    fn denials_are_listed_one_per_line() {
        let events = vec![
            Event::Denied {
                capability: "workspace-write".into(),
                path: "notes.txt".into(),
                reason: "edits.mode = \"ask\" and nobody can be asked".into(),
            },
            Event::Print { text: "x".into() },
        ];
        assert_eq!(
            denials(&events),
            "  workspace-write `notes.txt`: edits.mode = \"ask\" and nobody can be asked\n"
        );
    }
}
