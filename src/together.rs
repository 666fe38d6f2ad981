//! Steps sent at the same time (`"withNext": true`): the way IdP engines write in parallel — Okta pushes a
//! group's membership in chunks, Entra sends updates for one object from several workers — so that a server
//! whose write is a read-modify-write without a lock loses one of them. A chain of steps marked `withNext` and the
//! step after it form a group; the runner (`src/runner.rs`) sends the group's requests at once, each with the
//! variables as they were before the group, and judges each response on its own. A later step (a GET) checks the
//! outcome: RFC 7644 §3.5.2 makes every PATCH one atomic change of the resource, so two concurrent PATCHes must
//! both be applied, and a PUT racing a PATCH must leave the state of one of the two orders.

use std::future::Future;

/// Runs the futures at once (polled together, so their requests are in flight together) and returns their outputs
/// in the given order.
pub async fn at_once<T, F: Future<Output = T>>(futures: Vec<F>) -> Vec<T> {
    futures::future::join_all(futures).await
}
