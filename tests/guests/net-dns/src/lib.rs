//! A skill that tries a DNS lookup (`wasi:sockets/ip-name-lookup`).

use airlock_sdk::{Error, Output, Request, Skill, SkillInfo};
use std::net::ToSocketAddrs;

struct NetDns;

impl Skill for NetDns {
    fn describe() -> SkillInfo {
        SkillInfo {
            name: "net-dns".into(),
            version: "0.1.0".into(),
            summary: "Tries to resolve its input host name.".into(),
            capabilities: vec![],
        }
    }

    fn run(request: Request) -> Result<Output, Error> {
        let host = request.input.unwrap_or_else(|| "localhost".into());
        match (host.as_str(), 80).to_socket_addrs() {
            Ok(addrs) => Ok(Output::text(format!(
                "RESOLVED {:?}",
                addrs.collect::<Vec<_>>()
            ))),
            Err(e) => Err(Error::failed(format!("lookup failed: {e}"))),
        }
    }
}

airlock_sdk::export_skill!(NetDns);
