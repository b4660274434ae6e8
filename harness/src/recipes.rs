//! `rawflow recipes`: list the built-in recipes or print one as TOML.

use std::process::ExitCode;

use clap::{Args, Subcommand};
use rawflow::{Recipe, BUILTIN_RECIPES};

#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct RecipesArgs {
    #[command(subcommand)]
    command: Option<RecipesCommand>,
    /// Print this recipe (a built-in name or a TOML file) as TOML, like `recipes show NAME`.
    #[arg(value_name = "NAME|FILE")]
    name: Option<String>,
}

#[derive(Subcommand, Debug)]
enum RecipesCommand {
    /// Print a recipe (built-in name or TOML file) as TOML.
    Show {
        /// A built-in name or a recipe file.
        #[arg(value_name = "NAME|FILE")]
        name: String,
    },
}

/// Run `rawflow recipes`.
pub fn run(args: RecipesArgs) -> ExitCode {
    let show = match (args.command, args.name) {
        (Some(RecipesCommand::Show { name }), _) | (None, Some(name)) => Some(name),
        (None, None) => None,
    };
    match show {
        None => {
            for name in BUILTIN_RECIPES {
                let Some(r) = Recipe::builtin(name) else {
                    continue;
                };
                let parts: Vec<String> = r
                    .renditions
                    .iter()
                    .map(|x| {
                        let size = x
                            .long_edge
                            .map_or("full size".to_string(), |e| format!("{e} px"));
                        format!("{} ({size} {:?} {})", x.name, x.format, x.color_space)
                    })
                    .collect();
                println!("{name:8} {}", parts.join(", "));
            }
            ExitCode::SUCCESS
        }
        Some(name) => match Recipe::load(&name).and_then(|r| r.to_toml()) {
            Ok(text) => {
                print!("{text}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {name}: {e}");
                ExitCode::from(2)
            }
        },
    }
}
