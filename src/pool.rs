//! An ordered parallel map on plain threads.
//!
//! [`ordered_map`] runs `work` on a bounded pool of worker threads and hands
//! the results to `consume` on the calling thread in input order, so output
//! stays deterministic whatever the timing. At most `window` results wait
//! for their turn, which bounds memory by the window times the largest
//! result, not by the number of items.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::mpsc;

/// Maps `items` through `work` on `workers` threads (at least one) and
/// passes each result, in input order, to `consume`. Stops at the first
/// error from `consume`, after the workers finish their current item.
pub fn ordered_map<T, R, E>(
    items: &[T],
    workers: usize,
    work: impl Fn(&T) -> R + Sync,
    mut consume: impl FnMut(&T, R) -> Result<(), E>,
) -> Result<(), E>
where
    T: Sync,
    R: Send,
{
    let workers = workers.max(1);
    let window = workers * 2;
    let (job_sender, job_receiver) = mpsc::channel::<usize>();
    let job_receiver = Mutex::new(job_receiver);
    let (result_sender, result_receiver) = mpsc::channel::<(usize, R)>();
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let result_sender = result_sender.clone();
            let (job_receiver, work) = (&job_receiver, &work);
            scope.spawn(move || {
                loop {
                    // The lock is held only while taking a job.
                    let job = job_receiver
                        .lock()
                        .map_err(|_| ())
                        .and_then(|r| r.recv().map_err(|_| ()));
                    let Ok(index) = job else { break };
                    if result_sender.send((index, work(&items[index]))).is_err() {
                        break;
                    }
                }
            });
        }
        drop(result_sender);
        let outcome = feed_and_consume(items, window, &job_sender, &result_receiver, &mut consume);
        // Closing the job channel ends the workers once their item is done.
        drop(job_sender);
        outcome
    })
}

fn feed_and_consume<T, R, E>(
    items: &[T],
    window: usize,
    jobs: &mpsc::Sender<usize>,
    results: &mpsc::Receiver<(usize, R)>,
    consume: &mut impl FnMut(&T, R) -> Result<(), E>,
) -> Result<(), E> {
    let mut sent = 0;
    let mut next = 0;
    let mut waiting = BTreeMap::new();
    while next < items.len() {
        while sent < items.len() && sent < next + window {
            // Workers outlive this loop, so the channel is open.
            let _ = jobs.send(sent);
            sent += 1;
        }
        let Ok((index, result)) = results.recv() else {
            break;
        };
        waiting.insert(index, result);
        while let Some(result) = waiting.remove(&next) {
            consume(&items[next], result)?;
            next += 1;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[test]
    fn results_arrive_in_input_order() {
        let items: Vec<u64> = (0..50).collect();
        let mut seen = Vec::new();
        // Later items finish first, so the pool must reorder them.
        let work = |item: &u64| {
            std::thread::sleep(Duration::from_millis((50 - item) % 7));
            item * 10
        };
        ordered_map(&items, 4, work, |_, result| {
            seen.push(result);
            Ok::<(), ()>(())
        })
        .expect("no error");
        assert_eq!(seen, (0..50).map(|i| i * 10).collect::<Vec<_>>());
    }

    #[test]
    fn single_worker_and_empty_input() {
        let mut seen = Vec::new();
        ordered_map(
            &[1, 2, 3],
            1,
            |i: &i32| i + 1,
            |_, r| {
                seen.push(r);
                Ok::<(), ()>(())
            },
        )
        .expect("no error");
        assert_eq!(seen, [2, 3, 4]);
        let empty: [i32; 0] = [];
        ordered_map(&empty, 4, |i: &i32| *i, |_, _| Err("never called")).expect("no items");
    }

    #[test]
    fn consume_error_stops_early() {
        let items: Vec<usize> = (0..100).collect();
        let started = AtomicUsize::new(0);
        let work = |item: &usize| {
            started.fetch_add(1, Ordering::Relaxed);
            *item
        };
        let outcome = ordered_map(
            &items,
            2,
            work,
            |_, item| if item == 3 { Err(item) } else { Ok(()) },
        );
        assert_eq!(outcome, Err(3));
        assert!(
            started.load(Ordering::Relaxed) <= 3 + 1 + 4,
            "no more than the window was started"
        );
    }

    #[test]
    fn window_bounds_items_in_flight() {
        let items: Vec<usize> = (0..40).collect();
        let in_flight = AtomicUsize::new(0);
        let max_seen = AtomicUsize::new(0);
        let work = |_: &usize| {
            let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            max_seen.fetch_max(now, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(2));
            in_flight.fetch_sub(1, Ordering::SeqCst);
        };
        ordered_map(&items, 3, work, |_, ()| Ok::<(), ()>(())).expect("no error");
        assert!(max_seen.load(Ordering::SeqCst) <= 3);
    }
}
