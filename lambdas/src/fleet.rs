//! The EC2 worker fleet, behind a small trait so that the orchestrator can
//! be tested without EC2 ([`Ec2Fleet`] is the real one; the integration
//! tests run it against the emulator).

use async_trait::async_trait;
use aws_sdk_ec2::error::DisplayErrorContext;
use aws_sdk_ec2::types::InstanceStateName;

/// The state of a worker instance (EC2's instance states).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InstanceState {
    /// Booting: counts as running.
    Pending,
    /// Running.
    Running,
    /// On its way down: cannot be started until it is stopped.
    Stopping,
    /// Stopped: can be started.
    Stopped,
    /// Being terminated.
    ShuttingDown,
    /// Gone.
    Terminated,
    /// Anything else EC2 reports.
    Other(String),
}

impl InstanceState {
    /// Whether the instance is up or coming up.
    pub fn is_active(&self) -> bool {
        matches!(self, Self::Pending | Self::Running)
    }
}

/// A fleet operation failed.
#[derive(Debug, thiserror::Error)]
#[error("EC2 {operation}: {message}")]
pub struct FleetError {
    /// The API call.
    pub operation: &'static str,
    /// What went wrong.
    pub message: String,
}

/// The worker instances.
#[async_trait]
pub trait WorkerFleet: Send + Sync {
    /// The states of `ids` (instances EC2 does not know are left out).
    async fn states(&self, ids: &[String]) -> Result<Vec<(String, InstanceState)>, FleetError>;
    /// Start the stopped instances `ids`.
    async fn start(&self, ids: &[String]) -> Result<(), FleetError>;
}

/// The fleet on EC2 (`DescribeInstances`, `StartInstances`).
#[derive(Debug, Clone)]
pub struct Ec2Fleet {
    client: aws_sdk_ec2::Client,
}

impl Ec2Fleet {
    /// A fleet using `client`.
    pub fn new(client: aws_sdk_ec2::Client) -> Self {
        Self { client }
    }

    /// The EC2 client.
    pub fn client(&self) -> &aws_sdk_ec2::Client {
        &self.client
    }
}

fn state_of(name: Option<&InstanceStateName>) -> InstanceState {
    match name {
        Some(InstanceStateName::Pending) => InstanceState::Pending,
        Some(InstanceStateName::Running) => InstanceState::Running,
        Some(InstanceStateName::Stopping) => InstanceState::Stopping,
        Some(InstanceStateName::Stopped) => InstanceState::Stopped,
        Some(InstanceStateName::ShuttingDown) => InstanceState::ShuttingDown,
        Some(InstanceStateName::Terminated) => InstanceState::Terminated,
        Some(other) => InstanceState::Other(other.as_str().to_string()),
        None => InstanceState::Other("unknown".into()),
    }
}

#[async_trait]
impl WorkerFleet for Ec2Fleet {
    async fn states(&self, ids: &[String]) -> Result<Vec<(String, InstanceState)>, FleetError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let out = self
            .client
            .describe_instances()
            .set_instance_ids(Some(ids.to_vec()))
            .send()
            .await
            .map_err(|e| FleetError {
                operation: "DescribeInstances",
                message: DisplayErrorContext(&e).to_string(),
            })?;
        let mut states = Vec::new();
        for reservation in out.reservations() {
            for instance in reservation.instances() {
                if let Some(id) = instance.instance_id() {
                    let name = instance.state().and_then(|s| s.name());
                    states.push((id.to_string(), state_of(name)));
                }
            }
        }
        // In the configured order.
        states.sort_by_key(|(id, _)| ids.iter().position(|x| x == id));
        Ok(states)
    }

    async fn start(&self, ids: &[String]) -> Result<(), FleetError> {
        if ids.is_empty() {
            return Ok(());
        }
        self.client
            .start_instances()
            .set_instance_ids(Some(ids.to_vec()))
            .send()
            .await
            .map_err(|e| FleetError {
                operation: "StartInstances",
                message: DisplayErrorContext(&e).to_string(),
            })?;
        Ok(())
    }
}
