//! A fake SMTP relay for the tests: plain SMTP on a free port that records each
//! delivery's recipient, refuses `refuse@…` mailboxes for good (550), and can
//! be told to be down (421 at the greeting) or to fail some recipients for now
//! (451).

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// What the relay does and saw.
#[derive(Default)]
pub struct Relay {
    /// Recipients of the mails accepted, in order.
    pub delivered: Vec<String>,
    /// While set, every connection gets 421 at the greeting.
    pub down: bool,
    /// Recipients to answer 451 (each once) before accepting them.
    pub fail_once: Vec<String>,
}

pub type Shared = Arc<Mutex<Relay>>;

/// Starts the relay; answers its `host:port` and state.
pub async fn smtp_sink() -> (String, Shared) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let relay = Shared::default();
    let state = Arc::clone(&relay);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(session(stream, Arc::clone(&state)));
        }
    });
    (address, relay)
}

async fn session(stream: TcpStream, relay: Shared) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    if relay.lock().unwrap().down {
        write.write_all(b"421 fake relay down\r\n").await?;
        return Ok(());
    }
    write.write_all(b"220 fake ESMTP\r\n").await?;
    let mut recipient = String::new();
    while let Some(line) = lines.next_line().await? {
        let upper = line.to_ascii_uppercase();
        let answer: String = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            "250-fake\r\n250 8BITMIME\r\n".into()
        } else if upper.starts_with("RCPT TO:") {
            recipient = line[8..].trim().trim_matches(['<', '>']).to_string();
            let mut relay = relay.lock().unwrap();
            if recipient.starts_with("refuse@") {
                "550 5.1.1 no such mailbox\r\n".into()
            } else if let Some(at) = relay.fail_once.iter().position(|failing| *failing == recipient) {
                relay.fail_once.remove(at);
                "451 4.3.0 try again later\r\n".into()
            } else {
                "250 OK\r\n".into()
            }
        } else if upper == "DATA" {
            write.write_all(b"354 go on\r\n").await?;
            while let Some(data) = lines.next_line().await? {
                if data == "." {
                    break;
                }
            }
            relay.lock().unwrap().delivered.push(recipient.clone());
            "250 queued\r\n".into()
        } else if upper == "QUIT" {
            write.write_all(b"221 bye\r\n").await?;
            return Ok(());
        } else {
            "250 OK\r\n".into()
        };
        write.write_all(answer.as_bytes()).await?;
    }
    Ok(())
}
