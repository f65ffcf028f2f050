//! How a store or pipeline hears an operator's commands: a broadcast read of
//! `{ns}.control.actions` from its end (a command sent before the member started is not
//! carried out), each command aimed at the member (`all` or its id) carried out by `obey`
//! and answered with a `ControlReply` on `{ns}.control.results`. A `set_rate` for `all`
//! concerns pipelines only: stores do not answer it. Bus errors are retried; the reader
//! stops when `shutdown` is cancelled.

use std::future::Future;
use std::time::Duration;

use core_contracts::{ControlCommand, ControlReply, ControlResult, NodeRole};
use pulse::{CancellationToken, Pulse};
use tokio::task::JoinHandle;

/// How long a failed read waits before the next.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// The member that obeys: its id and kind.
#[derive(Debug, Clone)]
pub(crate) struct Member {
    /// Its id (a store's coordinator id, a pipeline's id).
    pub(crate) id: String,
    /// Its kind.
    pub(crate) role: NodeRole,
}

/// Spawns the command reader of `member`.
pub(crate) fn spawn_obey<F, Fut>(
    pulse: Pulse,
    member: Member,
    shutdown: CancellationToken,
    obey: F,
) -> JoinHandle<()>
where
    F: Fn(ControlCommand) -> Fut + Send + 'static,
    Fut: Future<Output = ControlResult> + Send,
{
    tokio::spawn(async move {
        let mut reader = loop {
            match open(&pulse).await {
                Ok(reader) => break reader,
                Err(error) => {
                    tracing::warn!(%error, "cannot read operator commands yet; retrying");
                    tokio::select! {
                        () = shutdown.cancelled() => return,
                        () = tokio::time::sleep(RETRY_AFTER) => {}
                    }
                }
            }
        };
        loop {
            let batch = tokio::select! {
                () = shutdown.cancelled() => return,
                batch = reader.try_next_batch() => batch,
            };
            let commands = match batch {
                Ok(commands) => commands,
                Err(error) => {
                    tracing::warn!(%error, "cannot read operator commands; retrying");
                    tokio::select! {
                        () = shutdown.cancelled() => return,
                        () = tokio::time::sleep(RETRY_AFTER) => {}
                    }
                    continue;
                }
            };
            for command in commands.into_iter().map(|e| e.payload) {
                if !command.concerns(member.role, &member.id) {
                    continue;
                }
                let result = obey(command.clone()).await;
                tracing::info!(
                    member = member.id,
                    action = command.action.as_str(),
                    actor = command.actor,
                    command = command.id,
                    status = ?result.status,
                    detail = result.detail.as_deref().unwrap_or(""),
                    "operator command"
                );
                let reply = ControlReply {
                    command_id: command.id,
                    member: member.id.clone(),
                    role: member.role,
                    action: command.action,
                    result,
                    ts: pulse.clock().unix_seconds(),
                };
                if let Err(error) = pulse
                    .publish(pulse::stream::CONTROL_RESULTS, &reply, Some(&member.id))
                    .await
                {
                    tracing::warn!(%error, "cannot publish the answer to an operator command");
                }
            }
        }
    })
}

/// A reader placed after the newest command.
async fn open(pulse: &Pulse) -> Result<pulse::Broadcast<ControlCommand>, pulse::BusError> {
    let mut reader = pulse
        .broadcast::<ControlCommand>(pulse::stream::CONTROL_ACTIONS)
        .await?;
    reader.history(1).await?;
    Ok(reader)
}
