//! Signed tree heads: the ledger's Ed25519 signature over (tree size, root, time), which an
//! auditor saves and later checks a data directory or a consistency proof against.
//!
//! The signed message is 80 bytes: `"beaconport tree head v1\0"` (24 bytes), the tree size (u64
//! big-endian), the root (32 bytes), the signing time in milliseconds since the Unix epoch (i64
//! big-endian) and 8 zero bytes (reserved).

use std::path::Path;

use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use ed25519_dalek::{Signature, Signer as _, SigningKey, Verifier, VerifyingKey};

use crate::merkle::Hash;

const DOMAIN: &[u8; 24] = b"beaconport tree head v1\0";

/// A tree head with the ledger's signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedHead {
    pub size: u64,
    pub root: Hash,
    pub timestamp_ms: i64,
    pub signature: [u8; 64],
    pub public_key: [u8; 32],
}

/// Errors of signing keys and signatures.
#[derive(Debug, thiserror::Error)]
pub enum HeadError {
    #[error("signing key {path}: {reason}")]
    Key { path: String, reason: String },
    #[error("the tree head's signature does not verify under public key {key}")]
    BadSignature { key: String },
    #[error("public key {0:?} is not a 32-byte Ed25519 key in hex")]
    BadPublicKey(String),
}

/// The bytes a tree head signature covers.
pub fn message(size: u64, root: &Hash, timestamp_ms: i64) -> [u8; 80] {
    let mut m = [0u8; 80];
    m[..24].copy_from_slice(DOMAIN);
    m[24..32].copy_from_slice(&size.to_be_bytes());
    m[32..64].copy_from_slice(root);
    m[64..72].copy_from_slice(&timestamp_ms.to_be_bytes());
    m
}

impl SignedHead {
    /// Checks the signature under `key` (a key the auditor trusts, taken out of band).
    pub fn verify(&self, key: &[u8; 32]) -> Result<(), HeadError> {
        let bad = || HeadError::BadSignature { key: hex::encode(key) };
        let vk = VerifyingKey::from_bytes(key).map_err(|_| bad())?;
        vk.verify(&message(self.size, &self.root, self.timestamp_ms), &Signature::from_bytes(&self.signature))
            .map_err(|_| bad())
    }
}

/// Parses a public key given in hex.
pub fn public_key_from_hex(s: &str) -> Result<[u8; 32], HeadError> {
    hex::decode(s.trim())
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .ok_or_else(|| HeadError::BadPublicKey(s.to_string()))
}

/// The ledger's signing key.
#[derive(Debug)]
pub struct Signer {
    key: SigningKey,
}

impl Signer {
    /// Loads the key from a PKCS#8 PEM file, creating a new random key there (mode 0600) if the
    /// file does not exist.
    pub fn load_or_create(path: &Path) -> Result<Signer, HeadError> {
        let err = |reason: String| HeadError::Key { path: path.display().to_string(), reason };
        if path.exists() {
            let pem = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
            let key =
                SigningKey::from_pkcs8_pem(&pem).map_err(|e| err(format!("not an Ed25519 PKCS#8 PEM key: {e}")))?;
            return Ok(Signer { key });
        }
        let key = SigningKey::generate(&mut rand::rngs::OsRng);
        let pem = key.to_pkcs8_pem(Default::default()).map_err(|e| err(e.to_string()))?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| err(e.to_string()))?;
        }
        write_private(path, pem.as_bytes()).map_err(|e| err(e.to_string()))?;
        Ok(Signer { key })
    }

    /// A signer over a given key (tests).
    pub fn from_seed(seed: [u8; 32]) -> Signer {
        Signer { key: SigningKey::from_bytes(&seed) }
    }

    pub fn public_key(&self) -> [u8; 32] {
        self.key.verifying_key().to_bytes()
    }

    /// Signs the head of a tree of `size` events with root `root`, at `timestamp_ms`.
    pub fn sign(&self, size: u64, root: Hash, timestamp_ms: i64) -> SignedHead {
        let signature = self.key.sign(&message(size, &root, timestamp_ms)).to_bytes();
        SignedHead { size, root, timestamp_ms, signature, public_key: self.public_key() }
    }
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_head_verifies_and_any_change_breaks_it() {
        let s = Signer::from_seed([7; 32]);
        let head = s.sign(1000, [3; 32], 1_700_000_000_000);
        head.verify(&s.public_key()).unwrap();
        let mut h = head.clone();
        h.size += 1;
        assert!(h.verify(&s.public_key()).is_err());
        let mut h = head.clone();
        h.root[31] ^= 1;
        assert!(h.verify(&s.public_key()).is_err());
        let mut h = head.clone();
        h.timestamp_ms += 1;
        assert!(h.verify(&s.public_key()).is_err());
        for i in 0..64 {
            let mut h = head.clone();
            h.signature[i] ^= 0x10;
            assert!(h.verify(&s.public_key()).is_err(), "signature byte {i}");
        }
        assert!(head.verify(&Signer::from_seed([8; 32]).public_key()).is_err(), "another key");
    }

    #[test]
    fn a_key_file_is_created_once_and_loaded_after() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/tree.pem");
        let a = Signer::load_or_create(&path).unwrap();
        let b = Signer::load_or_create(&path).unwrap();
        assert_eq!(a.public_key(), b.public_key());
        std::fs::write(&path, "not a key").unwrap();
        let e = Signer::load_or_create(&path).unwrap_err().to_string();
        assert!(e.contains("PKCS#8"), "{e}");
    }
}
