//! `deploy/rawflow.yaml`: cfn-lint, the policy checks of
//! `deploy/check_template.py` (which must also reject an insecure template),
//! and the job table's schema against the job store's.
//!
//! Needs python3 (cfn-lint is installed into a venv by `scripts/cfn-lint`);
//! set `RAWFLOW_SKIP_CFN_LINT=1` to skip the cfn-lint parts.

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
    ] {
        assert!(
            text.contains(&needle),
            "deploy/rawflow.yaml lacks {needle:?}"
        );
    }
}
