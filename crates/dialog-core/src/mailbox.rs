//! A small bounded single-producer, single-consumer queue from a shard to
//! one client transaction.
//!
//! A client transaction sees a few responses at most, so a tokio mpsc
//! channel (which allocates a block of 32 slots up front, several KB with
//! a `Message` in each) costs more than the work it carries. This one is a
//! `VecDeque` behind a mutex that only two parties ever touch.

use std::collections::VecDeque;
use std::future::poll_fn;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Poll, Waker};

struct State<T> {
    queue: VecDeque<T>,
    waker: Option<Waker>,
    closed: bool,
}

/// The shard's end.
pub(crate) struct Sender<T> {
    shared: Arc<Mutex<State<T>>>,
    capacity: usize,
}

/// The application's end.
pub(crate) struct Receiver<T> {
    shared: Arc<Mutex<State<T>>>,
}

impl<T> std::fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("mailbox::Receiver")
    }
}

/// A queue holding at most `capacity` undelivered items.
pub(crate) fn channel<T>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Mutex::new(State {
        queue: VecDeque::new(),
        waker: None,
        closed: false,
    }));
    (
        Sender {
            shared: shared.clone(),
            capacity,
        },
        Receiver { shared },
    )
}

impl<T> Sender<T> {
    /// Queues `item`; false (and the item dropped) when the queue is full
    /// or the receiver is gone.
    pub(crate) fn try_send(&self, item: T) -> bool {
        let waker = {
            let mut s = self.shared.lock().unwrap_or_else(PoisonError::into_inner);
            if s.queue.len() >= self.capacity || Arc::strong_count(&self.shared) < 2 {
                return false;
            }
            s.queue.push_back(item);
            s.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
        true
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let waker = {
            let mut s = self.shared.lock().unwrap_or_else(PoisonError::into_inner);
            s.closed = true;
            s.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl<T> Receiver<T> {
    /// The next item; `None` once the sender is gone and the queue empty.
    pub(crate) async fn recv(&mut self) -> Option<T> {
        poll_fn(|cx| {
            let mut s = self.shared.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(item) = s.queue.pop_front() {
                return Poll::Ready(Some(item));
            }
            if s.closed {
                return Poll::Ready(None);
            }
            match &mut s.waker {
                Some(w) if w.will_wake(cx.waker()) => {}
                slot => *slot = Some(cx.waker().clone()),
            }
            Poll::Pending
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn delivers_in_order_then_ends() {
        let (tx, mut rx) = channel(2);
        assert!(tx.try_send(1));
        assert!(tx.try_send(2));
        assert!(!tx.try_send(3), "full");
        let waiter = tokio::spawn(async move {
            let mut got = Vec::new();
            while let Some(v) = rx.recv().await {
                got.push(v);
            }
            got
        });
        tokio::task::yield_now().await;
        drop(tx);
        assert_eq!(waiter.await.ok(), Some(vec![1, 2]));
    }

    #[tokio::test]
    async fn wakes_a_waiting_receiver() {
        let (tx, mut rx) = channel(4);
        let waiter = tokio::spawn(async move { rx.recv().await });
        tokio::task::yield_now().await;
        assert!(tx.try_send(7));
        assert_eq!(waiter.await.ok(), Some(Some(7)));
    }

    #[test]
    fn refuses_once_the_receiver_is_gone() {
        let (tx, rx) = channel::<u8>(4);
        drop(rx);
        assert!(!tx.try_send(1));
    }
}
