//! A skill that tries to open a TCP connection. Using `std::net` makes the
//! component import `wasi:sockets`, so Airlock refuses it before it runs.

use airlock_sdk::{Error, Output, Request, Skill, SkillInfo};

struct NetTcp;

impl Skill for NetTcp {
    fn describe() -> SkillInfo {
        SkillInfo {
            name: "net-tcp".into(),
            version: "0.1.0".into(),
            summary: "Tries TcpStream::connect to its input address.".into(),
            capabilities: vec![],
        }
    }

    fn run(request: Request) -> Result<Output, Error> {
        let addr = request.input.unwrap_or_else(|| "127.0.0.1:9".into());
        match std::net::TcpStream::connect(addr.as_str()) {
            Ok(_) => Ok(Output::text(format!("CONNECTED to {addr}"))),
            Err(e) => Err(Error::failed(format!("connect failed: {e}"))),
        }
    }
}

airlock_sdk::export_skill!(NetTcp);
