//! In-process read caches for SQLite, kept exact by a write generation.
//!
//! The protocol, which is what makes a racing write harmless:
//! - a writer bumps the generation *after* its write has committed
//!   (`WriteRef`'s drop, `Tx::commit`, and the writer pool's release hook);
//! - a reader reads the generation *before* it queries, and tags what it
//!   stores with that generation;
//! - an entry is served only while its tag equals the current generation.
//!
//! A reader that queried before a commit therefore holds a tag older than
//! the bump that follows the commit, and its entry is never served. Any
//! write invalidates everything: writes are rare next to reads, and a
//! coarse rule cannot miss a dependency.
//!
//! The store knows nothing of what is cached: the caches themselves live
//! with their owners (`auth::cache` for credentials, the registry for
//! project-list pages) and take the store's generation.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// The write generation: bumped after every committed write.
#[derive(Debug, Default)]
pub struct Generation(AtomicU64);

impl Generation {
    pub fn current(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }

    pub fn bump(&self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A map whose entries are valid for one generation, bounded by a total
/// weight (entries for credentials, bytes for pages).
pub struct GenCache<K, V> {
    generation: Arc<Generation>,
    map: Mutex<Entries<K, V>>,
    max_weight: usize,
    weigh: fn(&V) -> usize,
}

struct Entries<K, V> {
    map: HashMap<K, (u64, V)>,
    weight: usize,
}

impl<K: Hash + Eq, V: Clone> GenCache<K, V> {
    pub fn new(generation: Arc<Generation>, max_weight: usize, weigh: fn(&V) -> usize) -> Self {
        GenCache {
            generation,
            map: Mutex::new(Entries {
                map: HashMap::new(),
                weight: 0,
            }),
            max_weight,
            weigh,
        }
    }

    /// The generation to tag a read with: take it before querying.
    pub fn generation(&self) -> u64 {
        self.generation.current()
    }

    /// The entry, if it was read under the current generation.
    pub fn get(&self, key: &K) -> Option<V> {
        let current = self.generation.current();
        let entries = self.map.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .map
            .get(key)
            .filter(|(g, _)| *g == current)
            .map(|(_, v)| v.clone())
    }

    /// Store `value`, read under generation `tag`. Refused when a write has
    /// already committed since (it would never be served anyway).
    pub fn insert(&self, key: K, tag: u64, value: V) {
        let current = self.generation.current();
        if tag != current {
            return;
        }
        let w = (self.weigh)(&value);
        if w > self.max_weight {
            return;
        }
        let mut e = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, old)) = e.map.remove(&key) {
            e.weight -= (self.weigh)(&old);
        }
        if e.weight + w > self.max_weight {
            // Entries of older generations are dead: drop them first.
            let weigh = self.weigh;
            e.map.retain(|_, (g, _)| *g == current);
            e.weight = e.map.values().map(|(_, v)| weigh(v)).sum();
            if e.weight + w > self.max_weight {
                e.map.clear();
                e.weight = 0;
            }
        }
        e.weight += w;
        e.map.insert(key, (tag, value));
    }
}

/// A resolved credential: who it is, until when that holds without a write
/// (expiry), and when the DB path must run again to record use (the
/// throttled `last_seen_at` / `last_used_at` update).
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_die_with_their_generation() {
        let g = Arc::new(Generation::default());
        let c: GenCache<&str, u32> = GenCache::new(g.clone(), 2, |_| 1);
        let tag = c.generation();
        c.insert("a", tag, 1);
        assert_eq!(c.get(&"a"), Some(1));
        g.bump();
        assert_eq!(c.get(&"a"), None);
        // A read tagged before a committed write is never stored.
        c.insert("b", tag, 2);
        assert_eq!(c.get(&"b"), None);
    }

    #[test]
    fn bounded() {
        let g = Arc::new(Generation::default());
        let c: GenCache<u32, u32> = GenCache::new(g, 10, |v| *v as usize);
        for i in 0..10 {
            c.insert(i, 0, i);
            let e = c.map.lock().unwrap();
            assert!(e.weight <= 10);
            assert_eq!(
                e.weight,
                e.map.values().map(|(_, v)| *v as usize).sum::<usize>()
            );
        }
        assert_eq!(c.get(&9), Some(9));
        // Heavier than the whole budget: not stored.
        c.insert(11, 0, 11);
        assert_eq!(c.get(&11), None);
    }
}
