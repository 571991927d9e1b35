//! The `beaconport` binary; everything lives in the library so tests can run the same code.

// The views allocate and free many small objects from two threads (decoding, applying); glibc's
// arenas keep what one thread frees from another, mimalloc gives it back.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `purge_delay` option: its number in `mi_option_t` of the mimalloc (v3) that
/// `libmimalloc-sys` builds (the crate exposes no constant for it).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// How long memory the allocator has freed stays committed before it is given back to the
/// system, in milliseconds (mimalloc's default is 10; `MIMALLOC_PURGE_DELAY` still overrides
/// it). The views churn through memory batch after batch, a batch taking about a tenth of a
/// second: given back after 10 ms, it came back through page faults that zeroed every page
/// again, a tenth of the projection's CPU (`bench views`).
const PURGE_DELAY_MS: std::ffi::c_long = 1_000;

fn main() -> std::process::ExitCode {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: the first thing the process does, before any other thread exists (mimalloc's
        // option setter is not thread-safe); it takes an option number and a value, nothing
        // that points anywhere.
        #[allow(unsafe_code)]
        unsafe {
            libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, PURGE_DELAY_MS)
        };
    }
    beaconport_cli::main()
}
