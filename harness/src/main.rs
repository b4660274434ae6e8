//! The `rawflow` command.

// --- serve / worker / demo (branch `serve`) ---
mod demo;
mod sample_dng;
mod serve;
mod worker_runtime;
// --- end serve ---
mod worker_cmd;

use clap::{Parser, Subcommand};

/// rawflow: camera-RAW development for the studio.
#[derive(Parser)]
#[command(name = "rawflow", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    // --- serve / worker / demo (branch `serve`) ---
    /// Run the studio pipeline on this machine: HTTP API, job store and workers.
    Serve(serve::ServeArgs),
    /// Start a server in-process, develop one RAW file through the API, and download it.
    Demo(demo::DemoArgs),
    // --- end serve ---
    /// Claim and develop jobs until idle (the EC2 worker; also runs on a serve data folder).
    Worker(worker_cmd::WorkerArgs),
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        // --- serve / worker / demo (branch `serve`) ---
        Command::Serve(args) => serve::run(args),
        Command::Demo(args) => demo::run(args),
        // --- end serve ---
        Command::Worker(args) => worker_cmd::run(args),
    }
}
