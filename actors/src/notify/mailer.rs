//! Rendering and sending mails: templates (minijinja, compiled in from
//! `actors/templates/`, first line = subject), then either an `.eml` file in the
//! outbox directory (default) or SMTP (lettre) when `mail.smtp_url` is set.
//!
//! An outbox file is named after the event it answers, and written to a temp
//! file then renamed: sending the same event again replaces the file, never
//! doubles it.

use std::path::PathBuf;

use lettre::message::{header::ContentType, Mailbox, Message};
use lettre::{AsyncSmtpTransport, AsyncTransport as _, Tokio1Executor};
use minijinja::Environment;
use serde::Serialize;

use super::state::MailKind;

/// Why a mail could not be made or sent.
#[derive(Debug, Clone, thiserror::Error)]
#[error("mail: {0}")]
pub struct MailError(pub String);

fn failed(err: impl std::fmt::Display) -> MailError {
    MailError(err.to_string())
}

/// Where mails go.
pub enum Transport {
    /// `.eml` files in this directory.
    Outbox(PathBuf),
    /// An SMTP relay.
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
}

impl Transport {
    /// Plain SMTP to a relay at `host:port` (a local MTA or a TLS sidecar).
    pub fn smtp_relay(host: &str, port: u16) -> Self {
        Transport::Smtp(
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
                .port(port)
                .build(),
        )
    }
}

/// Renders and sends mails.
pub struct Mailer {
    templates: Environment<'static>,
    from: Mailbox,
    transport: Transport,
}

impl Mailer {
    /// A mailer sending as `from` through `transport`.
    pub fn new(from: &str, transport: Transport) -> Result<Self, MailError> {
        let mut templates = Environment::new();
        for (name, source) in [
            ("order_confirmed", include_str!("../../templates/order_confirmed.txt")),
            ("order_shipped", include_str!("../../templates/order_shipped.txt")),
            ("payment_failed", include_str!("../../templates/payment_failed.txt")),
        ] {
            templates.add_template(name, source).map_err(failed)?;
        }
        Ok(Mailer {
            templates,
            from: from.parse().map_err(failed)?,
            transport,
        })
    }

    /// Renders `kind` with `context` for `to`; `name` identifies the event it
    /// answers (the outbox file name).
    pub fn compose(
        &self,
        kind: MailKind,
        to: &str,
        name: &str,
        context: &impl Serialize,
    ) -> Result<Composed, MailError> {
        let rendered = self
            .templates
            .get_template(kind.name())
            .and_then(|template| template.render(context))
            .map_err(failed)?;
        let (subject, body) = rendered.split_once('\n').unwrap_or((&rendered, ""));
        let message = Message::builder()
            .from(self.from.clone())
            .to(to.parse().map_err(failed)?)
            .subject(subject.trim())
            .header(ContentType::TEXT_PLAIN)
            .body(body.trim_start().to_string())
            .map_err(failed)?;
        Ok(Composed {
            name: name.to_string(),
            message,
        })
    }

    /// Sends `mails` in order; answers the ones refused for good (their index
    /// in `mails` and why: an SMTP 5xx), and fails on anything that may pass
    /// on a retry (an outbox write, SMTP down or a 4xx). The outbox writes them
    /// all in one blocking task: a task per mail cost two thread hand-offs per
    /// confirmed order.
    pub async fn send_all(&self, mails: Vec<Composed>) -> Result<Vec<(usize, String)>, MailError> {
        if mails.is_empty() {
            return Ok(Vec::new());
        }
        match &self.transport {
            Transport::Outbox(dir) => {
                let dir = dir.clone();
                let files: Vec<(String, Vec<u8>)> = mails
                    .into_iter()
                    .map(|mail| (mail.name, mail.message.formatted()))
                    .collect();
                let written = tokio::task::spawn_blocking(move || -> std::io::Result<()> {
                    std::fs::create_dir_all(&dir)?;
                    for (name, bytes) in files {
                        let temp = dir.join(format!(".{name}.tmp"));
                        std::fs::write(&temp, bytes)?;
                        std::fs::rename(&temp, dir.join(format!("{name}.eml")))?;
                    }
                    Ok(())
                });
                written.await.map_err(failed)?.map_err(failed)?;
                Ok(Vec::new())
            }
            Transport::Smtp(smtp) => {
                let mut refused = Vec::new();
                for (index, mail) in mails.into_iter().enumerate() {
                    match smtp.send(mail.message).await {
                        Ok(_) => {}
                        Err(err) if err.is_permanent() => refused.push((index, err.to_string())),
                        Err(err) => return Err(failed(err)),
                    }
                }
                Ok(refused)
            }
        }
    }
}

/// A rendered mail, ready to send.
pub struct Composed {
    /// The event it answers: the outbox file name.
    name: String,
    message: Message,
}
