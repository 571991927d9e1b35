//! The `beaconport` binary; everything lives in the library so tests can run the same code.

fn main() -> std::process::ExitCode {
    beaconport_cli::main()
}
