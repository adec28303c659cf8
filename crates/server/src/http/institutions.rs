//! A short-lived cache of institutions and their parsed public keys.
//!
//! Every request needs its institution's key; parsing a PEM and reading the
//! database each time would cost more than the signature check itself. Entries
//! (including "no such institution", so unknown IDs cannot hammer the
//! database) live for `institution_cache_ttl`; an operator's `institution
//! disable` or key rotation, made by another process, takes effect within it.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use freewalker_protocol::signature::VerifyingKey;
use freewalker_store::model::Institution;
use freewalker_store::{Store, StoreError};

/// An institution with its key ready to verify.
#[derive(Debug)]
pub struct KnownInstitution {
    pub institution: Institution,
    pub key: VerifyingKey,
}

/// Entries kept at most; beyond it the cache is cleared (institutions number in
/// the tens, so this only bounds memory against floods of made-up IDs).
pub const ENTRIES_MAX: usize = 10_000;

/// A cached look-up: when it was made and what it found.
type Entry = (Instant, Option<Arc<KnownInstitution>>);

#[derive(Debug)]
pub struct InstitutionCache {
    ttl: Duration,
    entries: RwLock<HashMap<String, Entry>>,
}

impl InstitutionCache {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: RwLock::new(HashMap::new()),
        }
    }

    /// The institution if it exists, whether enabled or not.
    pub async fn get(
        &self,
        store: &Store,
        id: &str,
    ) -> Result<Option<Arc<KnownInstitution>>, StoreError> {
        if let Ok(entries) = self.entries.read()
            && let Some((at, entry)) = entries.get(id)
            && at.elapsed() < self.ttl
        {
            return Ok(entry.clone());
        }
        let entry = match store.institution(id).await? {
            Some(institution) => match VerifyingKey::from_spki_pem(&institution.public_key_pem) {
                Ok(key) => Some(Arc::new(KnownInstitution { institution, key })),
                Err(e) => {
                    tracing::error!(institution_id = id, error = %e, "stored public key does not parse");
                    None
                }
            },
            None => None,
        };
        if let Ok(mut entries) = self.entries.write() {
            if entries.len() >= ENTRIES_MAX {
                entries.clear();
            }
            entries.insert(id.to_owned(), (Instant::now(), entry.clone()));
        }
        Ok(entry)
    }

    /// Forgets everything (after this process changed an institution).
    pub fn clear(&self) {
        if let Ok(mut entries) = self.entries.write() {
            entries.clear();
        }
    }
}
