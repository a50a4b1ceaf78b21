//! SIGINT and SIGTERM during a run: the signal sets a flag, the run checks
//! it between batches and stops with an error, and the temporary outputs
//! are removed as the error unwinds (they delete themselves when dropped).
//! The previous outputs stay as they were; the exit status is 128 + the
//! signal number (130, 143), as shells report a process a signal ended.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use signal_hook::consts::{SIGINT, SIGTERM};

static FLAG: OnceLock<Arc<AtomicUsize>> = OnceLock::new();

/// Starts catching SIGINT and SIGTERM. Before this, they end the process
/// at once, which is right while nothing has been written.
pub fn install() -> std::io::Result<()> {
    let flag = FLAG.get_or_init(|| Arc::new(AtomicUsize::new(0)));
    for sig in [SIGINT, SIGTERM] {
        signal_hook::flag::register_usize(sig, Arc::clone(flag), sig as usize)?;
    }
    Ok(())
}

/// The signal received since [`install`], if any.
pub fn received() -> Option<i32> {
    let n = FLAG.get()?.load(Ordering::SeqCst);
    (n != 0).then_some(n as i32)
}

/// How a signal is named in messages.
pub fn name(sig: i32) -> &'static str {
    match sig {
        SIGINT => "SIGINT",
        SIGTERM => "SIGTERM",
        _ => "a signal",
    }
}
