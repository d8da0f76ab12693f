//! Bounded work off the async workers.
//!
//! Whatever takes CPU or touches files for a request (cutting a tile, serialising a page of
//! items, building a download, receiving and publishing an upload) runs on tokio's blocking
//! pool, never on the few async workers that every other request needs. Each class of work
//! has its own semaphore: a flood of one class (say, downloads of a million points) queues
//! behind its own permits and cannot take the threads that tiles are cut on. A request that
//! waits too long for a permit is ended by the request timeout (see `server`), and with it
//! its place in the queue.
//!
//! Reads wait at most the request timeout for their job (queueing included): past it the
//! request is answered `503` and its job, if it had started, finishes unobserved. Uploads
//! have their own limits (body time, size) and are never cut off half-published.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::Semaphore;

use crate::error::ApiError;

/// The kinds of blocking work, each bounded on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkClass {
    /// Cutting and encoding vector tiles.
    Render,
    /// Selecting and serialising `items` pages, search and other feature documents.
    Items,
    /// Building CSV and FlatGeobuf downloads.
    Download,
    /// Short file work of the store: writing an upload's body as it arrives, listing
    /// versions, retiring, the audit log. Kept apart from reading files, so none of it
    /// waits behind a slow upload.
    Store,
    /// Reading, checking, indexing and publishing an uploaded file (each agency runs one at
    /// a time: see `publish::Uploads::agency_turn`).
    Intake,
    /// The same for small files (up to [`SMALL_INTAKE_BYTES`]): a 2 KB dry run does not
    /// queue behind another agency's 500 MB upload.
    SmallIntake,
}

/// Files up to this size are read on their own pool ([`WorkClass::SmallIntake`]).
pub const SMALL_INTAKE_BYTES: u64 = 1 << 20;

impl WorkClass {
    pub const ALL: [WorkClass; 6] = [
        WorkClass::Render,
        WorkClass::Items,
        WorkClass::Download,
        WorkClass::Store,
        WorkClass::Intake,
        WorkClass::SmallIntake,
    ];

    pub fn name(self) -> &'static str {
        match self {
            WorkClass::Render => "render",
            WorkClass::Items => "items",
            WorkClass::Download => "download",
            WorkClass::Store => "store",
            WorkClass::Intake => "intake",
            WorkClass::SmallIntake => "intake-small",
        }
    }

    /// Uploads have their own time limit (the upload's deadline), not the read timeout.
    fn is_timed(self) -> bool {
        matches!(
            self,
            WorkClass::Render | WorkClass::Items | WorkClass::Download
        )
    }
}

/// How many jobs of each class may run at once.
#[derive(Debug, Clone, Copy)]
pub struct WorkLimits {
    pub render: usize,
    pub items: usize,
    pub download: usize,
    pub store: usize,
    pub intake: usize,
    pub small_intake: usize,
}

impl WorkLimits {
    /// CPU-bound classes get two jobs per core each: with one, a core idled while a finished
    /// job's permit woke the next request and that request reached a blocking thread (14% idle
    /// under an uncached tile load; two per core served 5–35% more tiles per second on two
    /// cores). The jobs run at nice 10, so more of them never delay the async workers. Builds
    /// of downloads and uploads, which are large and rarer, get fewer.
    pub fn for_this_machine() -> WorkLimits {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        WorkLimits {
            render: 2 * cores.max(2),
            items: 2 * cores.max(2),
            download: (cores / 2).max(2),
            store: 4,
            intake: 2,
            small_intake: 2,
        }
    }

    /// One permit a class: what tests use to show that one class cannot starve another.
    pub fn one_each() -> WorkLimits {
        WorkLimits {
            render: 1,
            items: 1,
            download: 1,
            store: 1,
            intake: 1,
            small_intake: 1,
        }
    }

    fn of(&self, class: WorkClass) -> usize {
        match class {
            WorkClass::Render => self.render,
            WorkClass::Items => self.items,
            WorkClass::Download => self.download,
            WorkClass::Store => self.store,
            WorkClass::Intake => self.intake,
            WorkClass::SmallIntake => self.small_intake,
        }
    }
}

struct Pool {
    permits: Arc<Semaphore>,
    waiting: AtomicUsize,
}

/// The semaphores of every class; cheap to clone.
#[derive(Clone)]
pub struct Work {
    pools: Arc<[Pool; 6]>,
    limits: WorkLimits,
    timeout: std::time::Duration,
}

impl Work {
    /// Pools of `limits`, whose read jobs (every class but uploads) are given up after `timeout`.
    pub fn new(limits: WorkLimits, timeout: std::time::Duration) -> Work {
        let pool = |class: WorkClass| Pool {
            permits: Arc::new(Semaphore::new(limits.of(class).max(1))),
            waiting: AtomicUsize::new(0),
        };
        Work {
            pools: Arc::new(WorkClass::ALL.map(pool)),
            limits,
            timeout,
        }
    }

    fn pool(&self, class: WorkClass) -> &Pool {
        &self.pools[class as usize]
    }

    /// Jobs of `class` running now, and waiting for a permit.
    pub fn load(&self, class: WorkClass) -> (usize, usize) {
        let pool = self.pool(class);
        let running = self
            .limits
            .of(class)
            .max(1)
            .saturating_sub(pool.permits.available_permits());
        (running, pool.waiting.load(Ordering::Relaxed))
    }

    /// Runs `job` on the blocking pool once a permit of `class` is free. A panic in `job`
    /// becomes a 500 for this request only; a read that takes longer than the timeout, a 503.
    pub async fn run<T, F>(&self, class: WorkClass, job: F) -> Result<T, ApiError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        if !class.is_timed() {
            return self.run_untimed(class, job).await;
        }
        match tokio::time::timeout(self.timeout, self.run_untimed(class, job)).await {
            Ok(done) => done,
            Err(_) => {
                metrics::counter!("amis_timeouts_total").increment(1);
                Err(ApiError::Timeout(self.timeout.as_secs()))
            }
        }
    }

    /// Runs `job` once a permit of `class` is free, if one is within `wait`; `Ok(None)` if
    /// not. Only the wait is bounded: a job that has started runs to its end (an upload's
    /// job checks its own deadline and must never be abandoned half-published).
    pub async fn run_if_started_within<T, F>(
        &self,
        class: WorkClass,
        wait: std::time::Duration,
        job: F,
    ) -> Result<Option<T>, ApiError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        match tokio::time::timeout(wait, self.permit(class)).await {
            Ok(permit) => self.spawn(class, permit?, job).await.map(Some),
            Err(_) => Ok(None),
        }
    }

    /// A permit of `class`, once one is free. Counted as waiting until it has one or gives
    /// up (the request timed out and this future was dropped): the guard undoes the count
    /// either way.
    async fn permit(
        &self,
        class: WorkClass,
    ) -> Result<tokio::sync::OwnedSemaphorePermit, ApiError> {
        let pool = self.pool(class);
        let _waiting = Waiting::new(&pool.waiting);
        pool.permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| ApiError::Internal("the work pool was shut down".into()))
    }

    /// [`Work::run`] without the timeout: uploads have their own (their deadline), and
    /// publishing a file once it is in must not be cut short.
    async fn run_untimed<T, F>(&self, class: WorkClass, job: F) -> Result<T, ApiError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let permit = self.permit(class).await?;
        self.spawn(class, permit, job).await
    }

    /// Runs `job` on the blocking pool holding `permit`; a panic is a 500.
    async fn spawn<T, F>(
        &self,
        class: WorkClass,
        permit: tokio::sync::OwnedSemaphorePermit,
        job: F,
    ) -> Result<T, ApiError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            lower_this_threads_priority();
            job()
        })
        .await
        .map_err(|e| {
            let what = if e.is_panic() {
                "panicked"
            } else {
                "was cancelled"
            };
            ApiError::Internal(format!("a {} job {what}", class.name()))
        })
    }

    /// Runs a job of `class` too small to be worth a thread handoff where it is asked for,
    /// with the same containment as [`Work::run`]: a panic becomes a 500 for this request.
    pub fn run_here<T>(&self, class: WorkClass, job: impl FnOnce() -> T) -> Result<T, ApiError> {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(job))
            .map_err(|_| ApiError::Internal(format!("a {} job panicked", class.name())))
    }
}

/// Background work yields the CPU to the async workers: on a machine with two cores and eight
/// busy jobs, a cache hit would otherwise wait its turn behind them. The blocking pool's
/// threads only ever run such jobs (and file reads), so each is lowered once, for good, to
/// nice 10 (a ninth of a normal thread's share when both want the CPU). Linux sets the nice
/// value per thread; elsewhere this does nothing.
fn lower_this_threads_priority() {
    thread_local! {
        static LOWERED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }
    LOWERED.with(|lowered| {
        if !lowered.get() {
            lowered.set(true);
            #[cfg(target_os = "linux")]
            if let Err(e) = rustix::process::setpriority_process(Some(rustix::thread::gettid()), 10)
            {
                tracing::debug!("could not lower a worker thread's priority: {e}");
            }
        }
    });
}

/// One job waiting for a permit, for as long as this lives.
struct Waiting<'a>(&'a AtomicUsize);

impl<'a> Waiting<'a> {
    fn new(count: &'a AtomicUsize) -> Waiting<'a> {
        count.fetch_add(1, Ordering::Relaxed);
        Waiting(count)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Default for Work {
    fn default() -> Work {
        Work::new(
            WorkLimits::for_this_machine(),
            std::time::Duration::from_secs(30),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_busy_class_does_not_block_another() {
        let work = Work::new(WorkLimits::one_each(), Duration::from_secs(60));
        // Hold the only download permit until told to stop.
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let busy = {
            let work = work.clone();
            tokio::spawn(async move {
                work.run(WorkClass::Download, move || wait.recv().is_ok())
                    .await
            })
        };
        while work.load(WorkClass::Download).0 == 0 {
            tokio::task::yield_now().await;
        }
        // A second download waits for the permit...
        let queued = {
            let work = work.clone();
            tokio::spawn(async move { work.run(WorkClass::Download, || 2).await })
        };
        while work.load(WorkClass::Download).1 == 0 {
            tokio::task::yield_now().await;
        }
        // ...while a render runs at once.
        let rendered =
            tokio::time::timeout(Duration::from_secs(10), work.run(WorkClass::Render, || 1)).await;
        assert!(matches!(rendered, Ok(Ok(1))));
        assert!(!queued.is_finished());
        release.send(()).expect("release");
        assert!(matches!(busy.await, Ok(Ok(true))));
        assert!(matches!(queued.await, Ok(Ok(2))));
        assert_eq!(work.load(WorkClass::Download), (0, 0));
    }

    #[tokio::test]
    async fn a_panicking_job_is_an_internal_error() {
        let work = Work::default();
        let result: Result<(), ApiError> = work
            .run(WorkClass::Items, || panic!("deliberate test panic"))
            .await;
        assert!(matches!(result, Err(ApiError::Internal(m)) if m.contains("panicked")));
    }
}
