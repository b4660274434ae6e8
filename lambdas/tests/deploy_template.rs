//! `deploy/rawflow.yaml`: cfn-lint, the policy checks of
//! `deploy/check_template.py` (which must also reject an insecure template),
//! and the job table's schema against the job store's.
//!
//! Needs python3 (cfn-lint is installed into a venv by `scripts/cfn-lint`);
//! set `RAWFLOW_SKIP_CFN_LINT=1` to skip the cfn-lint parts.

#[path = "../../jobs/tests/support/moto.rs"]
mod moto;

use std::path::PathBuf;
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn skip() -> bool {
    let skip = std::env::var("RAWFLOW_SKIP_CFN_LINT").as_deref() == Ok("1");
    if skip {
        eprintln!("RAWFLOW_SKIP_CFN_LINT=1: skipping cfn-lint");
    }
    skip
}

fn cfn_lint(args: &[&str]) -> (bool, String) {
    let out = Command::new("bash")
        .arg(root().join("scripts/cfn-lint"))
        .args(args)
        .current_dir(root())
        .output()
        .unwrap_or_else(|e| panic!("running scripts/cfn-lint: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn template_passes_cfn_lint_and_the_policy_checks() {
    if skip() {
        return;
    }
    let (ok, out) = cfn_lint(&["check", "deploy/rawflow.yaml"]);
    assert!(ok, "deploy/rawflow.yaml:\n{out}");
    assert!(out.contains("no public bucket"), "{out}");
}

/// checkov (PyPI) next to cfn-lint: its failed checks are exactly the ones
/// deploy/README.md accepts with a reason.
#[test]
fn checkov_finds_only_the_accepted_findings() {
    if skip() {
        return;
    }
    let (ok, out) = cfn_lint(&["checkov", "deploy/rawflow.yaml"]);
    assert!(ok, "deploy/rawflow.yaml:\n{out}");
    assert!(out.contains("each accepted with its reason"), "{out}");
}

#[test]
fn the_policy_check_rejects_an_insecure_template() {
    if skip() {
        return;
    }
    let (ok, out) = cfn_lint(&["policy", "deploy/tests/insecure.yaml"]);
    assert!(!ok, "the insecure template passed:\n{out}");
    for finding in [
        "BlockPublicAcls is not true",
        "no BucketEncryption",
        "public AccessControl PublicRead",
        "allows Principal '*'",
        "[All]: Allow of wildcard action '*'",
        "[AllS3]: Allow of wildcard action 's3:*'",
        "[StarResource]: Resource '*' for ['s3:GetObject']",
    ] {
        assert!(out.contains(finding), "missing {finding:?} in:\n{out}");
    }
    assert!(
        !out.contains("[Fine]"),
        "DescribeInstances on '*' is allowed:\n{out}"
    );
}

/// The template's table must be the one `rawflow_jobs::aws::create_table` makes.
#[test]
fn table_schema_matches_the_job_store() {
    use rawflow_jobs::job_store::dynamo::{CLIENT_INDEX, STATUS_INDEX, TTL_ATTRIBUTE};
    let text = std::fs::read_to_string(root().join("deploy/rawflow.yaml")).unwrap();
    for needle in [
        format!("IndexName: {STATUS_INDEX}"),
        format!("IndexName: {CLIENT_INDEX}"),
        format!("AttributeName: {TTL_ATTRIBUTE}"),
        "AttributeName: job_status".to_string(),
        "AttributeName: job_client".to_string(),
        "BillingMode: PAY_PER_REQUEST".to_string(),
        "ProjectionType: ALL".to_string(),
        "InstanceInitiatedShutdownBehavior: stop".to_string(),
        "Runtime: provided.al2023".to_string(),
        "PayloadFormatVersion: \"2.0\"".to_string(),
        // No stranded job: the stopped-instance rule and the schedule.
        "detail-type: [EC2 Instance State-change Notification]".to_string(),
        "state: [stopped]".to_string(),
        "ScheduleExpression: rate(5 minutes)".to_string(),
        // Silent failures made loud.
        "OnFailure:".to_string(),
        "AccessLogSettings:".to_string(),
        "MetricName: OldestPendingJobAge".to_string(),
        "MetricName: LongestIdleWorker".to_string(),
        "MetricName: FailedJobs".to_string(),
        // The supervised worker, its logs, its binary fetched at boot.
        "Restart=on-failure".to_string(),
        "amazon-cloudwatch-agent".to_string(),
        "RAWFLOW_ARTIFACT=s3://${ArtifactBucket}/${WorkerBinaryKey}".to_string(),
        "RAWFLOW_JOB_TIME_LIMIT=${JobTimeLimit}".to_string(),
        "RAWFLOW_PRICE_PER_HOUR=${WorkerPricePerHour}".to_string(),
    ] {
        assert!(
            text.contains(&needle),
            "deploy/rawflow.yaml lacks {needle:?}"
        );
    }
}

/// `deploy/deploy.sh` against the emulator, as far as it goes: the packaged
/// artefacts are uploaded to the artefact bucket under content-addressed
/// keys (the AWS CLI talking to moto), `--dry-run` prints the commands and
/// uploads nothing, and the deploy command carries the keys, the admin
/// token's hash and the architecture's image. Needs the `aws` CLI (skipped
/// without it) and python3 for moto.
#[test]
fn deploy_script_uploads_the_artefacts_and_prints_the_stack_deploy() {
    if Command::new("aws").arg("--version").output().is_err() {
        eprintln!("no aws CLI: skipping the deploy.sh test");
        return;
    }
    let Some(moto) = moto::Moto::start() else {
        return;
    };
    let dist = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dist.path().join("lambdas")).unwrap();
    std::fs::create_dir_all(dist.path().join("worker")).unwrap();
    for f in ["orchestrator", "upload", "download", "admin"] {
        std::fs::write(dist.path().join(format!("lambdas/{f}.zip")), f).unwrap();
    }
    std::fs::write(dist.path().join("worker/rawflow-arm64"), b"worker binary").unwrap();
    let token = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(token.path(), "rf_admin_secret\n").unwrap();
    let aws = |args: &[&str]| {
        let mut c = Command::new("aws");
        c.args(args)
            .envs(moto.env())
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .env_remove("AWS_PROFILE");
        c.output().unwrap()
    };
    assert!(aws(&["s3", "mb", "s3://studio-artefacts"]).status.success());
    let deploy = |extra: &[&str]| {
        let mut c = Command::new("bash");
        c.arg(root().join("deploy/deploy.sh"))
            .args([
                "--bucket",
                "studio-artefacts",
                "--stack",
                "studio",
                "--worker-arch",
                "arm64",
                "--admin-token-file",
            ])
            .arg(token.path())
            .args(["--skip-build"])
            .args(extra)
            .env("RAWFLOW_DIST", dist.path())
            .envs(moto.env())
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_DEFAULT_REGION");
        let out = c.output().unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    };
    // Dry run: every command printed, nothing uploaded.
    let (ok, dry) = deploy(&["--dry-run", "--subnet", "subnet-1", "--", "WorkerCount=2"]);
    assert!(ok, "{dry}");
    assert!(dry.contains("cloudformation deploy"), "{dry}");
    let listed = aws(&["s3", "ls", "--recursive", "s3://studio-artefacts/"]);
    assert!(String::from_utf8_lossy(&listed.stdout).trim().is_empty());
    let hash = rawflow_jobs::ids::hex(&rawflow_jobs::auth::hash_token("rf_admin_secret"));
    for want in [
        format!("AdminTokenSha256={hash}"),
        "WorkerArchitecture=arm64".into(),
        "LambdaArchitecture=arm64".into(),
        "WorkerInstanceType=c7g.large".into(),
        "WorkerPricePerHour=0.0725".into(),
        "al2023-ami-kernel-default-arm64".into(),
        "WorkerSubnetId=subnet-1".into(),
        "WorkerCount=2".into(),
    ] {
        assert!(dry.contains(&want), "{want} in\n{dry}");
    }
    assert!(
        !dry.contains("rf_admin_secret"),
        "the token itself never leaves"
    );

    // Upload only: the artefacts land in the bucket, content-addressed.
    let (ok, out) = deploy(&["--skip-deploy"]);
    assert!(ok, "{out}");
    let listed = aws(&["s3", "ls", "--recursive", "s3://studio-artefacts/"]);
    let listed = String::from_utf8_lossy(&listed.stdout).to_string();
    for name in [
        "lambdas/orchestrator-arm64.zip",
        "lambdas/upload-arm64.zip",
        "lambdas/download-arm64.zip",
        "lambdas/admin-arm64.zip",
        "worker/rawflow-arm64",
    ] {
        assert!(listed.contains(name), "{name} in\n{listed}");
    }
    let worker_key = listed
        .lines()
        .filter_map(|l| l.split_whitespace().last())
        .find(|k| k.ends_with("worker/rawflow-arm64"))
        .unwrap()
        .to_string();
    assert!(
        out.contains(&format!("WorkerBinaryKey={worker_key}")),
        "{out}"
    );
    let got = aws(&[
        "s3",
        "cp",
        &format!("s3://studio-artefacts/{worker_key}"),
        "-",
    ]);
    assert_eq!(got.stdout, b"worker binary");
}
