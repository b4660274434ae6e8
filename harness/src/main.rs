//! `rawflow`: develop camera RAW files, run the studio pipeline locally, or run the EC2 worker.

mod client;
mod demo;
mod develop;
mod recipes;
mod sample_dng;
mod serve;
mod worker_cmd;
mod worker_runtime;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

/// Fast, colour-accurate camera RAW development.
#[derive(Parser)]
#[command(name = "rawflow", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Develop RAW files (or folders of them) into JPEG, TIFF or PNG files.
    Develop(develop::DevelopArgs),
    /// List the built-in recipes, or print one as TOML (`recipes NAME` or `recipes show NAME`).
    Recipes(recipes::RecipesArgs),
    /// Run the studio pipeline on this machine: HTTP API, job store and workers.
    Serve(serve::ServeArgs),
    /// Start a server in-process, develop one RAW file through the API, and download it.
    Demo(demo::DemoArgs),
    /// Claim and develop jobs until idle (the EC2 worker; also runs on a serve data folder).
    Worker(worker_cmd::WorkerArgs),
    /// Manage the studio's clients and their gallery links (admin token).
    Clients(client::clients::ClientsArgs),
    /// Upload RAW files for a client (resumable, parallel), optionally waiting for development.
    Upload(client::upload::UploadArgs),
    /// List jobs (admin token: all; a client's token: its own).
    Jobs(client::jobs::JobsArgs),
    /// Download the developed photos of completed jobs (resumable).
    Fetch(client::jobs::FetchArgs),
}

/// Print an error chain and map it to exit status 1.
fn report(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

/// `rawflow -V`: the version and the commit.
const SHORT_VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("RAWFLOW_GIT_COMMIT"),
    ")"
);

/// `rawflow --version`: version, commit, target, optional features, and the
/// kernels the engine selects on this CPU (detected at run time).
fn long_version() -> String {
    let features: Vec<String> = rawflow::cpu_features()
        .into_iter()
        .map(|(name, has)| format!("{}{name}", if has { "+" } else { "-" }))
        .collect();
    let features = if features.is_empty() {
        "none looked for on this target".to_owned()
    } else {
        features.join(" ")
    };
    format!(
        "{ver}\ncommit: {commit}\ntarget: {target}\nkernels: {kernels} (CPU features: {features})\naws worker: {aws}",
        ver = env!("CARGO_PKG_VERSION"),
        commit = env!("RAWFLOW_GIT_COMMIT"),
        target = env!("RAWFLOW_BUILD_TARGET"),
        kernels = rawflow::kernels(),
        aws = if cfg!(feature = "aws") {
            "built in (--backend aws)"
        } else {
            "not built (--features aws)"
        },
    )
}

/// Parse the command line; the long version is only known at run time.
fn parse() -> Cli {
    // Once per process: clap keeps `&'static str`s.
    let long: &'static str = Box::leak(long_version().into_boxed_str());
    let matches = Cli::command()
        .version(SHORT_VERSION)
        .long_version(long)
        .get_matches();
    Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
}

fn main() -> ExitCode {
    match parse().command {
        Command::Develop(args) => develop::run(args),
        Command::Recipes(args) => recipes::run(args),
        Command::Serve(args) => report(serve::run(args)),
        Command::Demo(args) => report(demo::run(args)),
        Command::Worker(args) => report(worker_cmd::run(args)),
        Command::Clients(args) => client::exit(client::clients::run(args)),
        Command::Upload(args) => client::exit(client::upload::run(args)),
        Command::Jobs(args) => client::exit(client::jobs::run_jobs(args)),
        Command::Fetch(args) => client::exit(client::jobs::run_fetch(args)),
    }
}
