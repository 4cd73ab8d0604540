//! Rendering and sending mails: templates (minijinja, compiled in from
//! `actors/templates/`, first line = subject), then either an mbox file in the
//! outbox directory (default; [`super::mbox`]) or SMTP (lettre) when
//! `mail.smtp_relay` is set.
//!
//! Every mail's `Message-ID` is made from the event it answers, so a mail sent
//! again after a crash is recognisably the same mail. An outbox file holds one
//! batch, is named after its first mail, and is written to a temp file then
//! renamed: a batch sent again starts at the same mail and replaces the file,
//! never doubling a mail.

use std::path::PathBuf;

use lettre::message::{header::ContentType, Mailbox, Message};
use lettre::{AsyncSmtpTransport, AsyncTransport as _, Tokio1Executor};
use minijinja::Environment;
use serde::Serialize;

use super::mbox;
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
        // `{{ total|money(currency) }}` writes "€12.50", as the storefront does.
        templates.add_filter("money", |minor: u64, currency: &str| {
            crate::money::format_money(minor, currency)
        });
        Ok(Mailer {
            templates,
            from: from.parse().map_err(failed)?,
            transport,
        })
    }

    /// Renders `kind` with `context` for `to`; `name` identifies the event it
    /// answers (its Message-ID; the outbox file name when it comes first).
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
            .message_id(Some(format!("<{name}@mercato>")))
            .header(ContentType::TEXT_PLAIN)
            .body(body.trim_start().to_string())
            .map_err(failed)?;
        Ok(Composed {
            name: name.to_string(),
            message,
        })
    }

    /// Sends `mails` in order, stopping at the first failure that may pass (an
    /// outbox write, SMTP down, a 4xx); see [`Sent`]. The outbox writes them
    /// all in one blocking task: a task per mail cost two thread hand-offs per
    /// confirmed order.
    pub async fn send_all(&self, mails: Vec<Composed>) -> Sent {
        let mut report = Sent::default();
        if mails.is_empty() {
            return report;
        }
        match &self.transport {
            Transport::Outbox(dir) => {
                let dir = dir.clone();
                let count = mails.len();
                let file = format!("{}.mbox", mails[0].name);
                let mut mbox = Vec::new();
                for mail in mails {
                    mbox::push_message(&mut mbox, &mail.message.formatted());
                }
                let written = tokio::task::spawn_blocking(move || -> std::io::Result<()> {
                    std::fs::create_dir_all(&dir)?;
                    let temp = dir.join(format!(".{file}.tmp"));
                    std::fs::write(&temp, mbox)?;
                    std::fs::rename(&temp, dir.join(file))
                });
                // A resend starts at the same mail, so it replaces the file (with
                // what it held and maybe more): on failure the batch is written again.
                match written
                    .await
                    .map_err(failed)
                    .and_then(|written| written.map_err(failed))
                {
                    Ok(()) => report.handled = count,
                    Err(err) => report.failure = Some(err),
                }
            }
            Transport::Smtp(smtp) => {
                for (index, mail) in mails.into_iter().enumerate() {
                    match smtp.send(mail.message).await {
                        Ok(_) => {}
                        Err(err) if refused_for_good(&err) => report.refused.push((index, err.to_string())),
                        Err(err) => {
                            report.failure = Some(failed(err));
                            break;
                        }
                    }
                    report.handled = index + 1;
                }
            }
        }
        report
    }
}

/// Whether this message is refused for good: the relay answered a 5xx about
/// the mailbox, or lettre will not send its non-ASCII address to a relay
/// without SMTPUTF8 (lettre says so only in its message). A 5xx about the
/// session (authentication, the greeting) or any other client error (TLS) is
/// the relay's set-up, not the mail's: it is retried, and every mail waits.
fn refused_for_good(err: &lettre::transport::smtp::Error) -> bool {
    const MAILBOX: [&str; 5] = ["501", "550", "551", "552", "553"];
    let mailbox = err.is_permanent()
        && err
            .status()
            .is_some_and(|code| MAILBOX.contains(&code.to_string().as_str()));
    mailbox || (err.is_client() && err.to_string().contains("SMTPUTF8"))
}

/// What sending a batch came to.
#[derive(Debug, Default)]
pub struct Sent {
    /// Mails dealt with, from the first (sent or refused for good).
    pub handled: usize,
    /// Of those, the ones refused for good: their index and why.
    pub refused: Vec<(usize, String)>,
    /// Why the rest was not sent, for now.
    pub failure: Option<MailError>,
}

/// A rendered mail, ready to send.
pub struct Composed {
    /// The event it answers: its Message-ID, and the outbox file name when it comes first.
    name: String,
    message: Message,
}
