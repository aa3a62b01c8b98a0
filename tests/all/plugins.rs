//! The shipped plugins, end to end through the real host: the same
//! components `airlock run` uses, over real workspaces.

use airlock_runtime::Profile;
use airlock_tests::{guests, run, workspace};

fn read_only() -> Profile {
    Profile::builtin("read-only").unwrap()
}

#[test]
fn secret_scan_finds_planted_secrets_and_never_reads_withheld_files() {
    let ws = workspace(&[
        ("src/config.py", "aws_key = \"AKIAIOSFODNN7EXAMPLE\"\n"),
        (
            "deploy/id_rsa",
            "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n",
        ),
        (
            "docs/setup.md",
            "Run with\n\n    export GITHUB_TOKEN=ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789\n",
        ),
        (
            "notes/key.txt",
            "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----\n",
        ),
        (".env", "SECRET=never-read\n"),
        ("clean.rs", "fn main() {}\n"),
    ]);
    let report = run(
        guests::SECRET_SCAN,
        &read_only(),
        ws.path(),
        &[("format", "json")],
    )
    .unwrap();
    let json: serde_json::Value = serde_json::from_str(report.output.as_deref().unwrap()).unwrap();
    let found: Vec<(String, String)> = report
        .findings
        .iter()
        .map(|f| (f.path.clone().unwrap_or_default(), f.rule_id.clone()))
        .collect();
    assert!(
        found.contains(&("src/config.py".into(), "aws-access-key-id".into())),
        "{found:?}"
    );
    assert!(
        found.iter().any(|(p, _)| p == "docs/setup.md"),
        "GitHub token: {found:?}"
    );
    assert!(
        found.iter().any(|(p, _)| p == "notes/key.txt"),
        "private key block: {found:?}"
    );
    assert!(!found.iter().any(|(p, _)| p == "clean.rs"));
    // deploy/id_rsa and .env are withheld by the host: reported, never read.
    let withheld = json["withheld"].to_string();
    assert!(
        withheld.contains("deploy/id_rsa") && withheld.contains(".env"),
        "{withheld}"
    );
    assert!(!report.output.as_deref().unwrap().contains("never-read"));
    assert_eq!(
        report.withheld.get(".env").map(String::as_str),
        Some(".env")
    );
    assert!(
        report.denials().next().is_none(),
        "the scanner never asked for a withheld file"
    );
    // It read the four readable files and nothing else.
    let readable: u64 = [
        "src/config.py",
        "docs/setup.md",
        "notes/key.txt",
        "clean.rs",
    ]
    .iter()
    .map(|p| std::fs::metadata(ws.path().join(p)).unwrap().len())
    .sum();
    assert_eq!(report.usage.bytes_read, readable);
}

#[test]
fn repo_map_outlines_the_languages_of_embedded_and_systems_work() {
    let ws = workspace(&[
        (
            "src/lib.rs",
            "pub struct Engine;\n\npub fn start() {}\n\nmod inner {}\n",
        ),
        (
            "tools/gen.py",
            "class Builder:\n    def build(self):\n        pass\n\ndef main():\n    pass\n",
        ),
        (
            "ada/sensors.ads",
            "package Sensors is\n   procedure Read_All;\n   function Count return Natural;\nend Sensors;\n",
        ),
        (
            "hw/alu.vhd",
            "entity alu is\nend entity alu;\n\narchitecture rtl of alu is\nbegin\nend architecture rtl;\n",
        ),
        ("hw/top.v", "module top(input clk);\nendmodule\n"),
        (
            "c/driver.c",
            "#include <stdio.h>\n\nint probe(void)\n{\n    return 0;\n}\n",
        ),
        ("README.md", "# demo\n"),
        (".env", "SECRET=x\n"),
    ]);
    let report = run(
        guests::REPO_MAP,
        &read_only(),
        ws.path(),
        &[("format", "json")],
    )
    .unwrap();
    let json: serde_json::Value = serde_json::from_str(report.output.as_deref().unwrap()).unwrap();
    let files = json["files"].as_array().unwrap();
    let file = |path: &str| {
        files
            .iter()
            .find(|f| f["path"] == path)
            .unwrap_or_else(|| panic!("{path} missing from {json}"))
    };
    let symbols = |path: &str| -> Vec<String> {
        file(path)["symbols"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["name"].as_str().unwrap().to_string())
            .collect()
    };
    let lang = |path: &str| file(path)["language"].as_str().unwrap().to_string();
    assert_eq!(lang("src/lib.rs"), "Rust");
    assert!(
        symbols("src/lib.rs").contains(&"Engine".to_string())
            && symbols("src/lib.rs").contains(&"start".to_string())
    );
    assert!(lang("ada/sensors.ads").starts_with("Ada"));
    assert!(symbols("ada/sensors.ads").contains(&"Sensors".to_string()));
    assert!(symbols("ada/sensors.ads").contains(&"Read_All".to_string()));
    assert_eq!(lang("hw/alu.vhd"), "VHDL");
    assert!(symbols("hw/alu.vhd").contains(&"alu".to_string()));
    assert!(lang("hw/top.v").contains("Verilog"));
    assert!(symbols("hw/top.v").contains(&"top".to_string()));
    assert_eq!(lang("c/driver.c"), "C");
    assert!(symbols("c/driver.c").contains(&"probe".to_string()));
    assert!(symbols("tools/gen.py").contains(&"Builder".to_string()));
    assert_eq!(file("tools/gen.py")["lines"], 6);
    assert!(json["withheld"].to_string().contains(".env"));
    assert!(files.iter().all(|f| f["path"] != ".env"));
}

#[test]
fn plugins_work_under_the_locked_down_profile() {
    let ws = workspace(&[
        ("src/main.rs", "fn main() {}\n"),
        ("infra/prod.tfstate", "{\"secret\": 1}"),
    ]);
    let locked = Profile::builtin("locked-down").unwrap();
    let report = run(guests::REPO_MAP, &locked, ws.path(), &[]).unwrap();
    assert!(report.output.unwrap().contains("src/main.rs"));
    assert_eq!(
        report
            .withheld
            .get("infra/prod.tfstate")
            .map(String::as_str),
        Some("*.tfstate")
    );
}
