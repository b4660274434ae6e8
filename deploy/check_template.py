#!/usr/bin/env python3
"""Security checks of a CloudFormation template (beyond cfn-lint).

- Every S3 bucket blocks public access (all four settings true), is
  encrypted, and sets no public canned ACL; no bucket policy allows "*".
- No IAM statement allows Action "*" or "*:*" or a whole service ("s3:*"),
  nor uses NotAction / NotResource with Allow.
- Every Allow on Resource "*" is for actions on RESOURCE_STAR_ALLOWED only:
  actions that support no resource-level permissions, for which AWS
  requires "*".

Exit status 0 when the template passes, 1 with one line per finding.
"""

import sys

from cfnlint.decode import decode

# Actions for which AWS supports no resource-level permissions.
RESOURCE_STAR_ALLOWED = {
    "ec2:describeinstances",
    "ec2:describeinstancestatus",
    "cloudwatch:putmetricdata",
    "xray:puttracesegments",
    "xray:puttelemetryrecords",
}

PUBLIC_ACLS = {"PublicRead", "PublicReadWrite", "AuthenticatedRead"}


def as_list(v):
    if v is None:
        return []
    return v if isinstance(v, list) else [v]


def policy_documents(name, res):
    """(where, document, is_resource_policy) of a resource."""
    t = res.get("Type")
    props = res.get("Properties") or {}
    if t == "AWS::IAM::Role":
        for p in as_list(props.get("Policies")):
            yield f"{name}/{p.get('PolicyName')}", p.get("PolicyDocument") or {}, False
    elif t in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
        yield name, props.get("PolicyDocument") or {}, False
    elif t == "AWS::S3::BucketPolicy":
        yield name, props.get("PolicyDocument") or {}, True


def check_statement(where, st, resource_policy, findings):
    if st.get("Effect") != "Allow":
        return
    if "NotAction" in st or "NotResource" in st:
        findings.append(f"{where}: Allow with NotAction/NotResource")
    actions = [a for a in as_list(st.get("Action")) if isinstance(a, str)]
    for a in actions:
        if a in ("*", "*:*") or a.endswith(":*"):
            findings.append(f"{where}: Allow of wildcard action {a!r}")
    if resource_policy:
        for p in as_list(st.get("Principal")):
            if p == "*" or (isinstance(p, dict) and "*" in as_list(p.get("AWS"))):
                findings.append(f"{where}: bucket policy allows Principal '*'")
        return
    resources = as_list(st.get("Resource"))
    if any(r == "*" for r in resources):
        bad = [a for a in actions if a.lower() not in RESOURCE_STAR_ALLOWED]
        if bad or not actions:
            findings.append(
                f"{where}: Resource '*' for {bad or 'no named action'} "
                "(only actions without resource-level permissions may use '*')"
            )


def check_bucket(name, res, findings):
    props = res.get("Properties") or {}
    pab = props.get("PublicAccessBlockConfiguration") or {}
    for k in ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"):
        if pab.get(k) not in (True, "true", "True"):
            findings.append(f"{name}: PublicAccessBlockConfiguration.{k} is not true")
    if not props.get("BucketEncryption"):
        findings.append(f"{name}: no BucketEncryption")
    if props.get("AccessControl") in PUBLIC_ACLS:
        findings.append(f"{name}: public AccessControl {props.get('AccessControl')}")
    if props.get("WebsiteConfiguration"):
        findings.append(f"{name}: website hosting")


def check(path):
    template, matches = decode(path)
    if matches:
        return [f"{path}: does not parse: {m}" for m in matches]
    findings = []
    resources = (template or {}).get("Resources") or {}
    for name, res in resources.items():
        if res.get("Type") == "AWS::S3::Bucket":
            check_bucket(name, res, findings)
        for where, doc, resource_policy in policy_documents(name, res):
            for i, st in enumerate(as_list(doc.get("Statement"))):
                sid = st.get("Sid", i)
                check_statement(f"{where}[{sid}]", st, resource_policy, findings)
    return [f"{path}: {f}" for f in findings]


def main(argv):
    if not argv:
        print("usage: check_template.py TEMPLATE...", file=sys.stderr)
        return 2
    findings = [f for p in argv for f in check(p)]
    for f in findings:
        print(f)
    if findings:
        return 1
    print(f"{len(argv)} template(s): no public bucket, no wildcard action, '*' resources only where required")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
