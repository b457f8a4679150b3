//! Contract-test suites for the ports, run against every adapter (see `tests/`), so local and AWS
//! adapters cannot drift apart. Each case is a public async function taking a fresh, empty store;
//! the `*_contract_tests!` macros expand to one named `#[tokio::test]` per case for an adapter.

pub mod object_store;
pub mod registry;
