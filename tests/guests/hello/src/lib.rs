//! The smallest skill: greets its input. Used as a baseline and by benchmarks.

use airlock_sdk::{Error, Output, Request, Skill, SkillInfo};

struct Hello;

impl Skill for Hello {
    fn describe() -> SkillInfo {
        SkillInfo {
            name: "hello".into(),
            version: "0.1.0".into(),
            summary: "Greets its input; touches nothing.".into(),
            capabilities: vec![],
        }
    }

    fn run(request: Request) -> Result<Output, Error> {
        let who = request.input.unwrap_or_else(|| "world".into());
        Ok(Output::text(format!("hello, {who}")))
    }
}

airlock_sdk::export_skill!(Hello);
