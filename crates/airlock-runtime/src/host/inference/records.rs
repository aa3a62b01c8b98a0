//! The `inference` record of a call, typed
//! ([`crate::audit::schema::Inference`]), synced before the answer is
//! reported done.

use super::{CompletionStream, finish_name};
use crate::audit::schema;
use crate::inference::{ChatRequest, OutputFormat};
use crate::journal::Journal;

impl CompletionStream {
    /// The call's audit record, synced before the answer is reported done:
    /// the request, the output, tokens, latency and outcome.
    pub(super) fn audit(&self, error: Option<&str>, journal: &mut Journal) {
        if !journal.audited() {
            return;
        }
        let elapsed_ms = u64::try_from(self.call.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        // The request is kept whenever the run is audited (see `start`).
        if let Some(record) = self.audit_record(error, elapsed_ms, journal) {
            journal.audit(&record, true);
        }
    }

    /// The call's `inference` record: the request's messages and the
    /// answer redacted when the options ask for it.
    fn audit_record(
        &self,
        error: Option<&str>,
        elapsed_ms: u64,
        journal: &Journal,
    ) -> Option<schema::Inference> {
        let mut request = self.call.request.clone()?;
        let mut redacted = std::collections::BTreeMap::new();
        for message in &mut request.messages {
            let (clean, counts) = journal.audit_redact(&message.content);
            message.content = clean;
            for (rule, n) in counts {
                *redacted.entry(rule).or_insert(0u64) += n;
            }
        }
        let (output, counts) = journal.audit_redact(&self.text);
        for (rule, n) in counts {
            *redacted.entry(rule).or_insert(0u64) += n;
        }
        Some(schema::Inference {
            model: self.call.model.clone(),
            digest: self.call.digest.clone(),
            call: self.call.kind.into(),
            request,
            output,
            prompt_tokens: self.usage.prompt_tokens.into(),
            completion_tokens: self.usage.completion_tokens.into(),
            prompt_tokens_reused: Some(self.usage.prompt_tokens_reused.into()),
            finish: self.finish.map(|f| finish_name(f).into()),
            error: error.map(str::to_string),
            elapsed_ms,
            redacted: schema::redacted(redacted),
        })
    }
}

/// A checked request as the `inference` record keeps it (before redaction).
pub(super) fn request_record(chat: &ChatRequest) -> schema::InferenceRequest {
    schema::InferenceRequest {
        messages: chat
            .messages
            .iter()
            .map(|m| schema::ChatMessage {
                role: m.role.as_str().into(),
                content: m.content.clone(),
            })
            .collect(),
        sampling: schema::Sampling {
            max_tokens: chat.sampling.max_tokens,
            temperature: chat.sampling.temperature.into(),
            top_p: chat.sampling.top_p.into(),
            seed: chat.sampling.seed,
            stop: chat.sampling.stop.clone(),
        },
        format: match &chat.format {
            OutputFormat::Text => schema::Format::Text,
            OutputFormat::JsonSchema(s) => schema::Format::JsonSchema(s.clone()),
            OutputFormat::Grammar(g) => schema::Format::Grammar(g.clone()),
        },
        stream: chat.stream,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    //! The record as the typed payload writes it, against the `json!`
    //! object the host wrote before the typed schema, for the same call:
    //! the canonical bytes (sorted keys) are the same.

    use super::super::Call;
    use super::*;
    use crate::inference::{FinishReason, Message, Role, Sampling, StopScanner, Usage};
    use serde_json::json;
    use std::time::Instant;

    const KEY: &str = "AKIAABCDEFGHIJKLMNOP";

    fn chat(format: OutputFormat, stream: bool) -> ChatRequest {
        ChatRequest {
            messages: vec![
                Message {
                    role: Role::System,
                    content: "Answer briefly.".into(),
                },
                Message {
                    role: Role::User,
                    content: format!("Is {KEY} a key?"),
                },
                Message {
                    role: Role::Assistant,
                    content: "Let me see.".into(),
                },
            ],
            sampling: Sampling {
                max_tokens: 64,
                temperature: 0.7,
                top_p: 0.9,
                seed: 42,
                stop: vec!["\n\n".into()],
            },
            format,
            stream,
            session: None,
        }
    }

    fn stream_of(chat: &ChatRequest, finish: Option<FinishReason>) -> CompletionStream {
        let mut stream = CompletionStream::new(
            Call {
                kind: if chat.stream { "chat-stream" } else { "chat" },
                model: "smol".into(),
                digest: "ab".repeat(32),
                started: Instant::now(),
                deadline: Instant::now(),
                timeout_seconds: 30,
                recorded: false,
                request: Some(request_record(chat)),
            },
            None,
            StopScanner::default(),
        );
        stream.text = format!("Yes, {KEY} is one.");
        stream.finish = finish;
        stream.usage = Usage {
            prompt_tokens: 31,
            completion_tokens: 8,
            prompt_tokens_reused: 20,
        };
        stream
    }

    /// The record as the host wrote it before, from the same call.
    fn before(
        stream: &CompletionStream,
        chat: &ChatRequest,
        error: Option<&str>,
        elapsed_ms: u64,
        journal: &Journal,
    ) -> String {
        let mut redacted = std::collections::BTreeMap::new();
        let mut request = serde_json::to_value(chat).unwrap();
        if let Some(messages) = request
            .get_mut("messages")
            .and_then(serde_json::Value::as_array_mut)
        {
            for message in messages {
                if let Some(serde_json::Value::String(content)) = message.get_mut("content") {
                    let (clean, counts) = journal.audit_redact(content);
                    *content = clean;
                    for (rule, n) in counts {
                        *redacted.entry(rule).or_insert(0u64) += n;
                    }
                }
            }
        }
        let (output, counts) = journal.audit_redact(&stream.text);
        for (rule, n) in counts {
            *redacted.entry(rule).or_insert(0u64) += n;
        }
        json!({
            "model": stream.call.model,
            "digest": stream.call.digest,
            "call": stream.call.kind,
            "request": request,
            "output": output,
            "prompt-tokens": stream.usage.prompt_tokens,
            "completion-tokens": stream.usage.completion_tokens,
            // Added with prefix reuse; older records lack it.
            "prompt-tokens-reused": stream.usage.prompt_tokens_reused,
            "finish": stream.finish.map(finish_name),
            "error": error,
            "elapsed-ms": elapsed_ms,
            "redacted": redacted,
        })
        .to_string()
    }

    #[test]
    fn the_checked_request_is_recorded_as_it_was_serialized_before() {
        for format in [
            OutputFormat::Text,
            OutputFormat::JsonSchema(r#"{"type":"object"}"#.into()),
            OutputFormat::Grammar("root ::= \"yes\"".into()),
        ] {
            for stream in [false, true] {
                let chat = chat(format.clone(), stream);
                let typed = serde_json::to_value(request_record(&chat)).unwrap();
                // An f32 setting is recorded as the f64 it converts to.
                assert_eq!(
                    typed.to_string(),
                    serde_json::to_value(&chat).unwrap().to_string()
                );
            }
        }
    }

    #[test]
    fn inference_records_write_the_bytes_they_wrote_before() {
        let home = tempfile::tempdir().unwrap();
        let journals = [
            Journal::new(1024, None),
            crate::journal::redacting_journal(home.path()),
        ];
        let calls = [
            (Some(FinishReason::Stop), None),
            (Some(FinishReason::StopSequence), None),
            (Some(FinishReason::Length), None),
            (None, Some("the skill stopped reading the answer")),
            (None, Some("engine unavailable")),
        ];
        for journal in &journals {
            for stream in [false, true] {
                let chat = chat(OutputFormat::Text, stream);
                for (finish, error) in calls {
                    let call = stream_of(&chat, finish);
                    let typed = call.audit_record(error, 1500, journal).unwrap();
                    assert_eq!(
                        serde_json::to_value(&typed).unwrap().to_string(),
                        before(&call, &chat, error, 1500, journal)
                    );
                }
            }
        }
        // The redacting journal hid the key in the prompt and the answer.
        let call = stream_of(&chat(OutputFormat::Text, false), None);
        let typed = call.audit_record(None, 0, &journals[1]).unwrap();
        assert_eq!(typed.redacted.get("aws-access-key-id"), Some(&2));
        assert!(!typed.output.contains(KEY));
    }
}
