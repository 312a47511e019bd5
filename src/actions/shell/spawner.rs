//! Children that die with warroom, even when warroom is killed with SIGKILL (issue
//! 14: 79 of 79 shell children outlived a `kill -9` of their parent).
//!
//! Linux's `PR_SET_PDEATHSIG` (prctl(2)) signals the child when the *thread* that
//! forked it exits, not the process. Tokio's worker threads can turn into
//! blocking-pool threads (`block_in_place`) that exit when idle, which would kill a
//! healthy child mid-step. So every child is forked by one thread that lives as long
//! as the process: it enters the caller's runtime (for the child's I/O and reaping)
//! and spawns there.

use std::io;
use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};

use tokio::process::{Child, Command};
use tokio::runtime::Handle;
use tokio::sync::oneshot;

struct Job {
    handle: Handle,
    command: Command,
    reply: oneshot::Sender<io::Result<Child>>,
}

fn spawner() -> &'static Mutex<mpsc::Sender<Job>> {
    static SPAWNER: OnceLock<Mutex<mpsc::Sender<Job>>> = OnceLock::new();
    SPAWNER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("warroom-spawner".into())
            .spawn(move || {
                for mut job in rx {
                    let _runtime = job.handle.enter();
                    let _ = job.reply.send(job.command.spawn());
                }
            })
            .expect("start the child-spawning thread");
        Mutex::new(tx)
    })
}

/// Spawns `command` so that it is killed (SIGKILL) when warroom dies, however it
/// dies.
pub async fn spawn(mut command: Command) -> io::Result<Child> {
    let parent = std::process::id() as libc::pid_t;
    // SAFETY: between fork and exec only async-signal-safe calls are made (prctl,
    // getppid, _exit), and nothing is allocated.
    unsafe {
        command.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong) != 0 {
                return Err(io::Error::last_os_error());
            }
            // warroom may have died between fork and prctl: then nobody would
            // signal this child, so it does not start at all.
            if libc::getppid() != parent {
                libc::_exit(1);
            }
            Ok(())
        });
    }
    let (reply, answer) = oneshot::channel();
    let job = Job {
        handle: Handle::current(),
        command,
        reply,
    };
    spawner()
        .lock()
        .map_err(|_| io::Error::other("the spawning thread's queue is poisoned"))?
        .send(job)
        .map_err(|_| io::Error::other("the spawning thread is gone"))?;
    answer
        .await
        .map_err(|_| io::Error::other("the spawning thread dropped the request"))?
}
