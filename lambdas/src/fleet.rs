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

/// One worker instance as EC2 describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerInstance {
    /// The instance id.
    pub id: String,
    /// Its state.
    pub state: InstanceState,
    /// When it was last started (EC2's `LaunchTime`, which a start from
    /// `stopped` moves), ms since the epoch, if EC2 said.
    pub launched_at: Option<i64>,
}

impl WorkerInstance {
    /// An instance in `state` with no known launch time.
    pub fn new(id: impl Into<String>, state: InstanceState) -> Self {
        Self {
            id: id.into(),
            state,
            launched_at: None,
        }
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
    /// The instances `ids`, in that order (instances EC2 does not know are
    /// left out).
    async fn describe(&self, ids: &[String]) -> Result<Vec<WorkerInstance>, FleetError>;
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
    async fn describe(&self, ids: &[String]) -> Result<Vec<WorkerInstance>, FleetError> {
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
                    states.push(WorkerInstance {
                        id: id.to_string(),
                        state: state_of(name),
                        launched_at: instance.launch_time().and_then(|t| t.to_millis().ok()),
                    });
                }
            }
        }
        // In the configured order.
        states.sort_by_key(|i| ids.iter().position(|x| *x == i.id));
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
