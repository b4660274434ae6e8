#!/usr/bin/env bash
# Build, upload and deploy rawflow on AWS in one command.
#
#   deploy/deploy.sh --bucket ARTIFACT_BUCKET --subnet SUBNET_ID [options] [-- KEY=VALUE ...]
#
# 1. builds the four Lambda bootstraps (orchestrator, upload, download, admin) for
#    --lambda-arch and the worker binary (`rawflow`) for --worker-arch, in
#    release mode;
# 2. zips the bootstraps and uploads everything to the artefact bucket under
#    content-addressed keys (rawflow/<sha256>/…), so that a changed binary is
#    a changed key and CloudFormation updates the functions;
# 3. runs `aws cloudformation deploy` on deploy/rawflow.yaml with those keys,
#    the admin token's hash and the architecture's Amazon Linux 2023 image.
#
# Options:
#   --bucket B          artefact bucket (must exist; private)              [required]
#   --subnet S          subnet of the worker instances                     [required unless --skip-deploy]
#   --stack NAME        stack name and NamePrefix                          [rawflow]
#   --worker-arch A     x86_64 | arm64                                      [x86_64]
#   --lambda-arch A     x86_64 | arm64                                      [same as --worker-arch]
#   --instance-type T   worker instance type             [c7i.large for x86_64, c7g.large for arm64]
#   --price P           its USD per hour (cost reports)  [0.08925 for c7i.large, 0.0725 for c7g.large]
#   --admin-token-file F  file holding the studio's admin token (rf_admin_…); the
#                       stack gets only its SHA-256. Default: $RAWFLOW_ADMIN_TOKEN, or a new
#                       token written to deploy/.admin-token (mode 600, git-ignored) and printed once.
#   --skip-build        use the binaries in dist/ as they are
#   --skip-deploy       build and upload only (print the deploy command)
#   --dry-run           build and package, print every AWS command, run none
#   -- KEY=VALUE ...    more template parameters (WorkerCount=2 UseSpot=true AlarmEmail=…)
#
# Environment: the AWS CLI's (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL for an emulator);
# CARGO_TARGET_DIR; AWS (the aws command, default `aws`); RAWFLOW_DIST (where the packages
# go, default dist/).
#
# Architectures: on an x86-64 build host, x86_64 builds with the host toolchain. arm64
# (Graviton: c7g, about 20 % cheaper per hour) is cross-built with Debian's toolchain:
#   dpkg --add-architecture arm64 && apt-get update
#   apt-get install -y rustc-web cargo-web libstd-rust-web-dev:arm64 gcc-aarch64-linux-gnu libc6-dev-arm64-cross
# then this script uses /usr/bin/cargo with RUSTC=/usr/bin/rustc and the aarch64-linux-gnu-gcc
# linker. On an arm64 host it is the other way round. Either way the binaries must not need a
# newer glibc than Amazon Linux 2023's (2.34): the script checks the symbol versions and stops
# if they do (build on an older distribution, or the Lambdas with `cargo lambda build`).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
AWS="${AWS:-aws}"
# AWS CLI v1 reads only AWS_DEFAULT_REGION.
if [ -n "${AWS_REGION:-}" ] && [ -z "${AWS_DEFAULT_REGION:-}" ]; then
    export AWS_DEFAULT_REGION="$AWS_REGION"
fi
bucket="" subnet="" stack="rawflow" worker_arch="x86_64" lambda_arch="" instance_type="" price=""
token_file="" skip_build=0 skip_deploy=0 dry_run=0
extra=()
MAX_GLIBC="2.34"

die() { echo "deploy.sh: $*" >&2; exit 2; }
say() { echo "deploy.sh: $*" >&2; }

while [ $# -gt 0 ]; do
    case "$1" in
        --bucket) bucket="${2:?}"; shift 2 ;;
        --subnet) subnet="${2:?}"; shift 2 ;;
        --stack) stack="${2:?}"; shift 2 ;;
        --worker-arch) worker_arch="${2:?}"; shift 2 ;;
        --lambda-arch) lambda_arch="${2:?}"; shift 2 ;;
        --instance-type) instance_type="${2:?}"; shift 2 ;;
        --price) price="${2:?}"; shift 2 ;;
        --admin-token-file) token_file="${2:?}"; shift 2 ;;
        --skip-build) skip_build=1; shift ;;
        --skip-deploy) skip_deploy=1; shift ;;
        --dry-run) dry_run=1; shift ;;
        --) shift; extra=("$@"); break ;;
        -h|--help) sed -n '2,40p' "$0"; exit 0 ;;
        *) die "unknown option $1 (see --help)" ;;
    esac
done
[ -n "$bucket" ] || die "--bucket is required"
[[ "$stack" =~ ^[a-z0-9][a-z0-9-]{1,23}$ ]] || die "--stack must match ^[a-z0-9][a-z0-9-]{1,23}$"
lambda_arch="${lambda_arch:-$worker_arch}"
for a in "$worker_arch" "$lambda_arch"; do
    case "$a" in x86_64|arm64) ;; *) die "architecture $a: use x86_64 or arm64" ;; esac
done
if [ -z "$instance_type" ]; then
    [ "$worker_arch" = arm64 ] && instance_type=c7g.large || instance_type=c7i.large
fi
if [ -z "$price" ]; then
    case "$instance_type" in
        c7i.large) price=0.08925 ;;
        c7g.large) price=0.0725 ;;
        *) die "--price is required for $instance_type (USD per hour)" ;;
    esac
fi
[ $skip_deploy = 1 ] || [ $dry_run = 1 ] || [ -n "$subnet" ] || die "--subnet is required to deploy"

triple() { [ "$1" = arm64 ] && echo aarch64-unknown-linux-gnu || echo x86_64-unknown-linux-gnu; }
host_arch="$(uname -m)"
[ "$host_arch" = aarch64 ] && host_arch=arm64
target_dir="${CARGO_TARGET_DIR:-$here/target}"
dist="${RAWFLOW_DIST:-$here/dist}"

# cargo for an architecture: the host's toolchain, or Debian's cross toolchain.
cargo_for() {
    local arch="$1"; shift
    local t; t="$(triple "$arch")"
    if [ "$arch" = "$host_arch" ]; then
        cargo build --release --locked --target "$t" "$@"
    else
        local gcc; [ "$arch" = arm64 ] && gcc=aarch64-linux-gnu-gcc || gcc=x86_64-linux-gnu-gcc
        command -v "$gcc" >/dev/null || die "cross-building for $arch needs $gcc and Debian's rust std for it (see the header of this script)"
        local var; var="CARGO_TARGET_$(echo "$t" | tr 'a-z-' 'A-Z_')_LINKER"
        env RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc "$var=$gcc" \
            CC_"${t//-/_}"="$gcc" \
            /usr/bin/cargo build --release --locked --target "$t" "$@"
    fi
}

# The newest glibc symbol version a binary needs must be ≤ Amazon Linux 2023's.
check_glibc() {
    local bin="$1" need
    need="$(objdump -T "$bin" 2>/dev/null | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/GLIBC_//' | sort -V | tail -n 1)"
    [ -n "$need" ] || return 0
    if [ "$(printf '%s\n%s\n' "$need" "$MAX_GLIBC" | sort -V | tail -n 1)" != "$MAX_GLIBC" ]; then
        die "$bin needs glibc $need; Amazon Linux 2023 has $MAX_GLIBC (build on an older distribution, or use cargo lambda for the functions)"
    fi
    say "$(basename "$(dirname "$bin")")/$(basename "$bin"): needs glibc $need (≤ $MAX_GLIBC)"
}

# ------------------------------------------------------------------ build
lambdas=(orchestrator upload download admin)
mkdir -p "$dist/lambdas" "$dist/worker"
worker_bin="$dist/worker/rawflow-$worker_arch"
if [ $skip_build = 0 ]; then
    cd "$here"
    say "building the Lambdas for $lambda_arch"
    cargo_for "$lambda_arch" -p rawflow-lambdas --bins
    say "building the worker for $worker_arch"
    cargo_for "$worker_arch" -p rawflow-harness --bin rawflow
    for f in "${lambdas[@]}"; do
        src="$target_dir/$(triple "$lambda_arch")/release/$f"
        check_glibc "$src"
        tmp="$(mktemp -d)"
        cp "$src" "$tmp/bootstrap"
        # Fixed timestamps: the same binary gives the same zip (and key).
        touch -d @0 "$tmp/bootstrap"
        rm -f "$dist/lambdas/$f.zip"
        (cd "$tmp" && zip -q -X "$dist/lambdas/$f.zip" bootstrap)
        rm -rf "$tmp"
    done
    src="$target_dir/$(triple "$worker_arch")/release/rawflow"
    check_glibc "$src"
    cp "$src" "$worker_bin"
fi
for f in "${lambdas[@]}"; do
    [ -f "$dist/lambdas/$f.zip" ] || die "missing $dist/lambdas/$f.zip (run without --skip-build)"
done
[ -f "$worker_bin" ] || die "missing $worker_bin (run without --skip-build)"

# ----------------------------------------------------------------- upload
key_of() { echo "rawflow/$(sha256sum "$1" | cut -c1-16)/$2"; }
run() {
    if [ $dry_run = 1 ]; then
        printf '+'; printf ' %q' "$@"; printf '\n'
    else
        "$@"
    fi
}
declare -A keys
for f in "${lambdas[@]}"; do
    keys[$f]="$(key_of "$dist/lambdas/$f.zip" "lambdas/$f-$lambda_arch.zip")"
    run "$AWS" s3 cp --only-show-errors "$dist/lambdas/$f.zip" "s3://$bucket/${keys[$f]}"
done
worker_key="$(key_of "$worker_bin" "worker/rawflow-$worker_arch")"
run "$AWS" s3 cp --only-show-errors "$worker_bin" "s3://$bucket/$worker_key"
say "artefacts in s3://$bucket/: ${keys[orchestrator]} ${keys[upload]} ${keys[download]} ${keys[admin]} $worker_key"

# ----------------------------------------------------------------- deploy
if [ -n "$token_file" ]; then
    token="$(tr -d '[:space:]' <"$token_file")"
elif [ -n "${RAWFLOW_ADMIN_TOKEN:-}" ]; then
    token="$RAWFLOW_ADMIN_TOKEN"
elif [ -f "$here/deploy/.admin-token" ]; then
    token="$(tr -d '[:space:]' <"$here/deploy/.admin-token")"
else
    token="rf_admin_$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
    (umask 077 && echo "$token" >"$here/deploy/.admin-token")
    say "new admin token (also in deploy/.admin-token; keep it secret): RAWFLOW_ADMIN_TOKEN=$token"
fi
token_sha="$(printf %s "$token" | sha256sum | cut -d' ' -f1)"
[ "$worker_arch" = arm64 ] && ami_arch=arm64 || ami_arch=x86_64
params=(
    "NamePrefix=$stack"
    "AdminTokenSha256=$token_sha"
    "ArtifactBucket=$bucket"
    "OrchestratorCodeKey=${keys[orchestrator]}"
    "UploadCodeKey=${keys[upload]}"
    "DownloadCodeKey=${keys[download]}"
    "AdminCodeKey=${keys[admin]}"
    "WorkerBinaryKey=$worker_key"
    "LambdaArchitecture=$lambda_arch"
    "WorkerArchitecture=$worker_arch"
    "WorkerAmiId=/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-$ami_arch"
    "WorkerInstanceType=$instance_type"
    "WorkerPricePerHour=$price"
)
[ -n "$subnet" ] && params+=("WorkerSubnetId=$subnet")
params+=("${extra[@]}")
deploy_cmd=("$AWS" cloudformation deploy --template-file "$here/deploy/rawflow.yaml"
    --stack-name "$stack" --capabilities CAPABILITY_IAM --no-fail-on-empty-changeset
    --parameter-overrides "${params[@]}")
if [ $skip_deploy = 1 ]; then
    say "--skip-deploy: deploy with"
    dry_run=1 run "${deploy_cmd[@]}"
    exit 0
fi
run "${deploy_cmd[@]}"
run "$AWS" cloudformation describe-stacks --stack-name "$stack" \
    --query "Stacks[0].Outputs" --output table
