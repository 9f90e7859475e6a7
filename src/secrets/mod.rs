//! Key material and encryption. `MasterKey` holds the 32-byte root key
//! (zeroized on drop, never printed); `cipher` seals and opens values with
//! per-purpose subkeys and row-binding associated data. The secret store that
//! persists sealed values lands with provisioning; this module is the
//! primitive it builds on.

pub mod cipher;
pub mod key;
pub mod rotate;
pub mod store;

pub use cipher::{Cipher, Purpose};
pub use key::MasterKey;
