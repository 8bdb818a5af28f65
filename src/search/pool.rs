//! The segment pool: a lone query's segments searched on several cores, the calling thread
//! taking its share.
//!
//! tantivy's executor hands every segment of a pass to a rayon pool while the caller sleeps.
//! On a 2-core VM a worker that has gone to sleep sometimes wakes after its partner has taken
//! both segments, so the same query's runs swing between parallel and serial speed (and
//! beyond: the caller's own wake-up comes on top; see BENCHMARKS, seventeenth session). Here
//! the caller runs the first segment itself and then any segment no worker has claimed yet, so
//! a pass is never slower than serial, and a worker stays awake (spinning) for a short while
//! after its last task, long enough for the next pass of the same query to find it running.
//! The caller, done with its share, waits for the workers' results the same way before it
//! sleeps: put to sleep, it woke tens of µs after the last result came.

use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long an idle worker keeps looking for work before it sleeps: longer than the gap
/// between one pass of a query and the next (planning a tier, merging counts: tens of µs),
/// short enough that a lone query leaves no core busy for long after it ends.
const SPIN: Duration = Duration::from_micros(300);

type Job = Box<dyn FnOnce() + Send>;

struct Shared {
    queue: Mutex<VecDeque<Job>>,
    /// Jobs queued (read without the lock by spinning workers).
    queued: AtomicUsize,
    ready: Condvar,
    stop: AtomicBool,
}

/// Worker threads that, with the calling thread, run one task per segment.
pub struct Pool {
    shared: Arc<Shared>,
    workers: Vec<JoinHandle<()>>,
}

impl Pool {
    /// A pool of `workers` threads beside the callers'.
    pub fn new(workers: usize) -> std::io::Result<Pool> {
        let shared = Arc::new(Shared {
            queue: Mutex::new(VecDeque::new()),
            queued: AtomicUsize::new(0),
            ready: Condvar::new(),
            stop: AtomicBool::new(false),
        });
        let mut handles = Vec::with_capacity(workers);
        for i in 0..workers {
            let mine = Arc::clone(&shared);
            let handle = std::thread::Builder::new()
                .name(format!("banshi-segment-{i}"))
                .spawn(move || work(&mine));
            match handle {
                Ok(h) => handles.push(h),
                Err(e) => {
                    // Stop the ones started.
                    drop(Pool {
                        shared,
                        workers: handles,
                    });
                    return Err(e);
                }
            }
        }
        Ok(Pool {
            shared,
            workers: handles,
        })
    }

    /// Each of `tasks` run once, their results in order: the caller runs the first, queues
    /// the others for the workers, and runs any of them no worker has started when it is
    /// free. A task that panics gives `panicked`.
    pub fn run<R: Send + 'static>(
        &self,
        tasks: Vec<Box<dyn FnOnce() -> R + Send>>,
        panicked: impl Fn() -> R,
    ) -> Vec<R> {
        let n = tasks.len();
        let (sender, results) = mpsc::channel::<(usize, Option<R>)>();
        let slots: Vec<Slot<R>> = tasks
            .into_iter()
            .map(|t| Arc::new(Mutex::new(Some(t))))
            .collect();
        if n > 1 && !self.workers.is_empty() {
            let mut queue = self.shared.queue.lock().unwrap_or_else(|e| e.into_inner());
            for (i, slot) in slots.iter().enumerate().skip(1) {
                let slot = Arc::clone(slot);
                let sender = sender.clone();
                queue.push_back(Box::new(move || {
                    if let Some(task) = take(&slot) {
                        let _ = sender.send((i, catch_unwind(AssertUnwindSafe(task)).ok()));
                    }
                }));
            }
            self.shared.queued.fetch_add(n - 1, Ordering::Release);
            drop(queue);
            self.shared.ready.notify_all();
        }
        let mut out: Vec<Option<R>> = (0..n).map(|_| None).collect();
        let mut mine = 0;
        for (i, slot) in slots.iter().enumerate() {
            if let Some(task) = take(slot) {
                out[i] = Some(catch_unwind(AssertUnwindSafe(task)).unwrap_or_else(|_| panicked()));
                mine += 1;
            }
        }
        drop(sender);
        // The workers' results: looked for without sleeping for a while, as a worker looks
        // for work: a worker finishing just after the caller is the common case, and a caller
        // put to sleep for it woke tens of µs later.
        let since = Instant::now();
        for _ in mine..n {
            let got = loop {
                match results.try_recv() {
                    Ok(got) => break Some(got),
                    Err(mpsc::TryRecvError::Empty) if since.elapsed() < SPIN => {
                        std::hint::spin_loop()
                    }
                    Err(mpsc::TryRecvError::Empty) => break results.recv().ok(),
                    // Every sender gone: the queued jobs were dropped (the pool is stopping).
                    Err(mpsc::TryRecvError::Disconnected) => break None,
                }
            };
            match got {
                Some((i, r)) => out[i] = Some(r.unwrap_or_else(&panicked)),
                None => break,
            }
        }
        out.into_iter()
            .map(|r| r.unwrap_or_else(&panicked))
            .collect()
    }
}

/// A task in a slot that whoever takes it first runs (the caller or a worker).
type Slot<R> = Arc<Mutex<Option<Box<dyn FnOnce() -> R + Send>>>>;

fn take<R>(slot: &Slot<R>) -> Option<Box<dyn FnOnce() -> R + Send>> {
    slot.lock().unwrap_or_else(|e| e.into_inner()).take()
}

/// A worker: run queued jobs; when there are none, spin for [`SPIN`], then sleep until told.
fn work(shared: &Shared) {
    let mut idle_since = Instant::now();
    loop {
        if shared.queued.load(Ordering::Acquire) > 0 {
            let job = {
                let mut queue = shared.queue.lock().unwrap_or_else(|e| e.into_inner());
                let job = queue.pop_front();
                if job.is_some() {
                    shared.queued.fetch_sub(1, Ordering::Release);
                }
                job
            };
            if let Some(job) = job {
                job();
                idle_since = Instant::now();
                continue;
            }
        }
        if shared.stop.load(Ordering::Acquire) {
            return;
        }
        if idle_since.elapsed() < SPIN {
            std::hint::spin_loop();
            continue;
        }
        let queue = shared.queue.lock().unwrap_or_else(|e| e.into_inner());
        let _queue = shared
            .ready
            .wait_while(queue, |q| {
                q.is_empty() && !shared.stop.load(Ordering::Acquire)
            })
            .unwrap_or_else(|e| e.into_inner());
        idle_since = Instant::now();
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Release);
        {
            // Under the lock, so that no worker misses the notification between its check
            // and its wait.
            let _queue = self.shared.queue.lock().unwrap_or_else(|e| e.into_inner());
            self.shared.ready.notify_all();
        }
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every task runs once and comes back in order, from pools of 0–3 workers, including
    /// tasks that finish out of order, after the caller has stopped spinning for them, and one
    /// that panics.
    #[test]
    fn tasks_run_once_in_order() {
        for workers in 0..4 {
            let pool = Pool::new(workers).expect("threads start");
            let runs = Arc::new(AtomicUsize::new(0));
            for round in 0..50u64 {
                let tasks: Vec<Box<dyn FnOnce() -> u64 + Send>> = (0..5u64)
                    .map(|i| {
                        let runs = Arc::clone(&runs);
                        Box::new(move || {
                            runs.fetch_add(1, Ordering::Relaxed);
                            if (i + round) % 3 == 0 {
                                std::thread::sleep(Duration::from_micros(50));
                            }
                            // Longer than the caller waits without sleeping.
                            if (i + round) % 11 == 0 {
                                std::thread::sleep(2 * SPIN);
                            }
                            if round == 7 && i == 2 {
                                panic!("a task fails");
                            }
                            round * 10 + i
                        }) as Box<dyn FnOnce() -> u64 + Send>
                    })
                    .collect();
                let got = pool.run(tasks, || u64::MAX);
                let want: Vec<u64> = (0..5)
                    .map(|i| {
                        if round == 7 && i == 2 {
                            u64::MAX
                        } else {
                            round * 10 + i
                        }
                    })
                    .collect();
                assert_eq!(got, want, "{workers} workers, round {round}");
            }
            assert_eq!(runs.load(Ordering::Relaxed), 250);
        }
    }
}
