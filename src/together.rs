//! Steps sent at the same time (`"withNext": true`): the way IdP engines write in parallel — Okta pushes a
//! group's membership in chunks, Entra sends updates for one object from several workers — so that a server
//! whose write is a read-modify-write without a lock loses one of them. A chain of steps marked `withNext` and the
//! step after it form a group; the runner (`src/runner.rs`) sends the group's requests at once, each with the
//! variables as they were before the group, and judges each response on its own. A later step (a GET) checks the
//! outcome: RFC 7644 §3.5.2 makes every PATCH one atomic change of the resource, so two concurrent PATCHes must
//! both be applied, and a PUT racing a PATCH must leave the state of one of the two orders.

use std::future::Future;

use crate::scenario::Scenario;

/// The most steps one group may send at once.
pub const MAX_GROUP: usize = 16;

/// Load-time rules for step `i` of `s` as part of a `withNext` group; each error is a sentence for the loader.
///
/// A step in a group (one marked `withNext`, or the step right after one) cannot capture (the group's steps run
/// with copies of the variables, so which value would win?), repeat or follow pages; a `withNext` step cannot be
/// the last step; a group has at most [`MAX_GROUP`] steps.
pub fn check(s: &Scenario, i: usize) -> Vec<String> {
    let step = &s.steps[i];
    let in_group = step.with_next || (i > 0 && s.steps[i - 1].with_next);
    let mut out = Vec::new();
    if !in_group {
        return out;
    }
    if step.with_next && i + 1 == s.steps.len() {
        out.push("`withNext` on the last step: there is no next step to send it with".into());
    }
    if !step.capture.is_empty() {
        out.push("a step sent together with others (`withNext`) cannot capture: the group runs at once".into());
    }
    if step.repeat.is_some() || step.pages {
        out.push("a step sent together with others (`withNext`) cannot `repeat` or follow `pages`".into());
    }
    let mut first = i;
    while first > 0 && s.steps[first - 1].with_next {
        first -= 1;
    }
    if step.with_next && i - first + 1 >= MAX_GROUP {
        out.push(format!("a `withNext` group has at most {MAX_GROUP} steps"));
    }
    out
}

/// Runs the futures at once (polled together, so their requests are in flight together) and returns their outputs
/// in the given order.
pub async fn at_once<T, F: Future<Output = T>>(futures: Vec<F>) -> Vec<T> {
    futures::future::join_all(futures).await
}
