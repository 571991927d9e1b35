//! Merkle trees over the ledger, hashed exactly as in RFC 9162 (Certificate Transparency v2.0),
//! section 2.1, which keeps the tree hashing of RFC 6962.
//!
//! What is hashed, with SHA-256 throughout:
//! - a **leaf** is `SHA-256(0x00 || leaf input)` ([`leaf_hash`]); the leaf input is whatever bytes
//!   the caller commits to, this module does not choose them;
//! - an **interior node** is `SHA-256(0x01 || left || right)` ([`node_hash`]);
//! - the root of the **empty tree** is `SHA-256("")` ([`empty_root`]);
//! - the root of `n > 1` leaves splits them at `k`, the largest power of two smaller than `n`:
//!   `MTH(D[0:n]) = node_hash(MTH(D[0:k]), MTH(D[k:n]))`.
//!
//! The two prefixes 0x00 and 0x01 keep a leaf from ever being taken for a node (second-preimage
//! resistance), and the split rule means no leaf is duplicated to fill the tree.
//!
//! [`MerkleTree`] holds every complete subtree and serves roots of any prefix, inclusion proofs
//! (RFC 9162 section 2.1.3) and consistency proofs (section 2.1.4); [`verify_inclusion`] and
//! [`verify_consistency`] check them without the tree. [`RootBuilder`] computes a root from
//! streamed leaf hashes in `O(log n)` memory.
//!
//! Everything here is pure: no I/O, no clock, no randomness.

use sha2::{Digest, Sha256};

/// A SHA-256 digest: a leaf hash, a node hash or a root.
pub type Hash = [u8; 32];

/// The prefix of a leaf hash (RFC 9162 section 2.1.1).
const LEAF_PREFIX: u8 = 0x00;
/// The prefix of an interior node hash (RFC 9162 section 2.1.1).
const NODE_PREFIX: u8 = 0x01;

/// Hashes a leaf: `SHA-256(0x00 || leaf_input)`.
pub fn leaf_hash(leaf_input: &[u8]) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([LEAF_PREFIX]);
    hasher.update(leaf_input);
    hasher.finalize().into()
}

/// Hashes an interior node from its two children: `SHA-256(0x01 || left || right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    #[cfg(test)]
    tests::NODE_HASHES.with(|n| n.set(n.get() + 1));
    let mut hasher = Sha256::new();
    hasher.update([NODE_PREFIX]);
    hasher.update(left);
    hasher.update(right);
    hasher.finalize().into()
}

/// The root of the empty tree: `SHA-256` of the empty string.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// Why a root or a proof could not be produced, or why a proof does not verify.
#[derive(Debug, thiserror::Error, PartialEq, Eq, Clone)]
pub enum ProofError {
    /// A tree size larger than the number of leaves the tree holds.
    #[error("tree size {size} is beyond the {len} leaves the tree holds")]
    SizeBeyondTree { size: u64, len: u64 },
    /// A leaf index not below the tree size.
    #[error("leaf index {index} is out of range for tree size {size}")]
    IndexOutOfRange { index: u64, size: u64 },
    /// A consistency range that is not `0 < old_size <= new_size`.
    #[error("consistency range old_size {old} to new_size {new} is invalid: need 0 < old_size <= new_size")]
    BadRange { old: u64, new: u64 },
    /// A proof with more or fewer hashes than its sizes call for.
    #[error("proof has {got} hashes where {expected} are expected")]
    WrongLength { expected: usize, got: usize },
    /// The proof leads to a root other than the given (new) root.
    #[error("root computed from the proof does not match the given root")]
    RootMismatch,
    /// The consistency proof leads to an old root other than the given old root.
    #[error("old root computed from the consistency proof does not match the given old_root")]
    OldRootMismatch,
}

/// The largest power of two strictly smaller than `n` (the RFC's `k`), for `n > 1`.
fn split_point(n: u64) -> u64 {
    debug_assert!(n > 1, "split_point({n})");
    1 << (63 - (n - 1).leading_zeros())
}

/// The number of hashes in `PATH(index, D[0:size])`, for `index < size`.
///
/// The path has one hash per level where the paths to `index` and to `size - 1` have split
/// (`inner`), plus one per left sibling on the right border above that (`border`).
fn inclusion_proof_len(index: u64, size: u64) -> usize {
    debug_assert!(index < size);
    let inner = 64 - (index ^ (size - 1)).leading_zeros();
    let border = (index >> inner).count_ones();
    (inner + border) as usize
}

/// The number of hashes in `PROOF(old, D[0:new])`, for `0 < old < new`.
///
/// It is the inclusion path of leaf `old - 1` without the levels inside the complete subtree of
/// `2^shift` leaves that ends the old tree, plus that subtree's hash unless it is the whole old
/// tree (the verifier then has it as the old root).
fn consistency_proof_len(old: u64, new: u64) -> usize {
    debug_assert!(0 < old && old < new);
    let shift = old.trailing_zeros();
    let seed = usize::from(!old.is_power_of_two());
    inclusion_proof_len(old - 1, new) - shift as usize + seed
}

/// An append-only Merkle tree of leaf hashes, all levels held in memory (about 64 bytes per leaf):
/// `levels[0]` holds the leaf hashes; `levels[k][i]` is the hash of the complete subtree of `2^k`
/// leaves starting at leaf `i * 2^k`.
///
/// Roots of any prefix and both kinds of proof are computed from these stored subtrees, never by
/// rehashing leaves: each costs `O(log n)` lookups and node hashes, `O(log^2 n)` for a proof.
#[derive(Debug, Clone, Default)]
pub struct MerkleTree {
    /// Invariant: `levels[k].len() == len >> k`, and the last level is non-empty (or there are no
    /// levels at all when the tree is empty).
    levels: Vec<Vec<Hash>>,
}

impl MerkleTree {
    /// Creates an empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a leaf hash (from [`leaf_hash`]), completing every subtree it closes: amortised
    /// one node hash per leaf.
    pub fn push(&mut self, leaf: Hash) {
        let mut hash = leaf;
        let mut level = 0;
        loop {
            if self.levels.len() == level {
                self.levels.push(Vec::new());
            }
            let nodes = &mut self.levels[level];
            nodes.push(hash);
            // An odd count means the new node is a left child still waiting for its sibling.
            if nodes.len() % 2 == 1 {
                return;
            }
            hash = node_hash(&nodes[nodes.len() - 2], &nodes[nodes.len() - 1]);
            level += 1;
        }
    }

    /// The number of leaves.
    pub fn len(&self) -> u64 {
        self.levels.first().map_or(0, |leaves| leaves.len() as u64)
    }

    /// Whether the tree has no leaves.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The hash of leaf `index`, if the tree holds it.
    pub fn leaf(&self, index: u64) -> Option<Hash> {
        let leaves = self.levels.first()?;
        leaves.get(usize::try_from(index).ok()?).copied()
    }

    /// The root of the tree of the first `size` leaves (`MTH(D[0:size])`); any `size <= len`,
    /// and [`empty_root`] for 0.
    pub fn root(&self, size: u64) -> Result<Hash, ProofError> {
        self.check_size(size)?;
        Ok(if size == 0 { empty_root() } else { self.range_hash(0, size) })
    }

    /// The inclusion proof of leaf `index` in the tree of the first `size` leaves: RFC 9162
    /// section 2.1.3.1, `PATH(index, D[0:size])`, ordered from the leaf's sibling up to the root's
    /// child.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, ProofError> {
        self.check_size(size)?;
        if index >= size {
            return Err(ProofError::IndexOutOfRange { index, size });
        }
        let mut proof = Vec::with_capacity(inclusion_proof_len(index, size));
        self.path(index, 0, size, &mut proof);
        Ok(proof)
    }

    /// The consistency proof between the trees of the first `old_size` and the first `new_size`
    /// leaves: RFC 9162 section 2.1.4.1, `PROOF(old_size, D[0:new_size])`. Needs
    /// `0 < old_size <= new_size <= len`; equal sizes give an empty proof.
    pub fn consistency_proof(&self, old_size: u64, new_size: u64) -> Result<Vec<Hash>, ProofError> {
        self.check_size(new_size)?;
        if old_size == 0 || old_size > new_size {
            return Err(ProofError::BadRange { old: old_size, new: new_size });
        }
        if old_size == new_size {
            return Ok(Vec::new());
        }
        let mut proof = Vec::with_capacity(consistency_proof_len(old_size, new_size));
        self.subproof(old_size, 0, new_size, true, &mut proof);
        Ok(proof)
    }

    fn check_size(&self, size: u64) -> Result<(), ProofError> {
        let len = self.len();
        if size > len {
            return Err(ProofError::SizeBeyondTree { size, len });
        }
        Ok(())
    }

    /// `MTH(D[start:end])` for `start < end <= len`.
    ///
    /// An aligned power-of-two range is one stored subtree. Any other range splits at the largest
    /// power of two below its length; for the ranges the RFC's recursions reach (all starting at
    /// a multiple of the power of two at or above their length) the left part is then a stored
    /// subtree and only the right part recurses, so this costs `O(log n)`.
    fn range_hash(&self, start: u64, end: u64) -> Hash {
        debug_assert!(start < end && end <= self.len(), "range_hash({start}, {end})");
        let n = end - start;
        if n.is_power_of_two() && start & (n - 1) == 0 {
            let level = n.trailing_zeros() as usize;
            // In range: `end <= len`, so this aligned subtree is complete and stored.
            return self.levels[level][(start >> level) as usize];
        }
        let k = split_point(n);
        node_hash(&self.range_hash(start, start + k), &self.range_hash(start + k, end))
    }

    /// Appends `PATH(index - start, D[start:end])` to `proof`.
    fn path(&self, index: u64, start: u64, end: u64, proof: &mut Vec<Hash>) {
        if end - start == 1 {
            return;
        }
        let mid = start + split_point(end - start);
        if index < mid {
            self.path(index, start, mid, proof);
            proof.push(self.range_hash(mid, end));
        } else {
            self.path(index, mid, end, proof);
            proof.push(self.range_hash(start, mid));
        }
    }

    /// Appends `SUBPROOF(old - start, D[start:end], whole)` to `proof`, for `start < old <= end`.
    fn subproof(&self, old: u64, start: u64, end: u64, whole: bool, proof: &mut Vec<Hash>) {
        if old == end {
            // The old tree's subtree is the whole range: the verifier knows it if it is the
            // old root itself.
            if !whole {
                proof.push(self.range_hash(start, end));
            }
            return;
        }
        let mid = start + split_point(end - start);
        if old <= mid {
            self.subproof(old, start, mid, whole, proof);
            proof.push(self.range_hash(mid, end));
        } else {
            self.subproof(old, mid, end, false, proof);
            proof.push(self.range_hash(start, mid));
        }
    }
}

/// Verifies that `leaf` (a leaf hash) is leaf `index` of the tree of `size` leaves whose root is
/// `root`, given the inclusion proof: RFC 9162 section 2.1.3.2.
///
/// Fails on `index >= size`, on a proof of the wrong length, and when the proof leads to another
/// root (any altered bit in the leaf, the proof or the root).
pub fn verify_inclusion(leaf: &Hash, index: u64, size: u64, proof: &[Hash], root: &Hash) -> Result<(), ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let expected = inclusion_proof_len(index, size);
    if proof.len() != expected {
        return Err(ProofError::WrongLength { expected, got: proof.len() });
    }
    // The RFC's algorithm, with its `fn` and `sn` as `f` and `s`.
    let (mut f, mut s) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        // The RFC's own guards against a proof of the wrong length; the check above already
        // rejects one, so they are a second line of defence.
        if s == 0 {
            return Err(ProofError::WrongLength { expected, got: proof.len() });
        }
        if f & 1 == 1 || f == s {
            r = node_hash(p, &r);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 {
        return Err(ProofError::WrongLength { expected, got: proof.len() });
    }
    if r != *root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

/// Verifies that the tree of `old_size` leaves with root `old_root` is a prefix of the tree of
/// `new_size` leaves with root `new_root`, given the consistency proof: RFC 9162 section 2.1.4.2.
///
/// Needs `0 < old_size <= new_size`; for equal sizes the proof must be empty and the roots equal.
/// Fails on a proof of the wrong length and when the proof leads to other roots (any altered bit
/// in the proof or either root).
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), ProofError> {
    if old_size == 0 || old_size > new_size {
        return Err(ProofError::BadRange { old: old_size, new: new_size });
    }
    if old_size == new_size {
        if !proof.is_empty() {
            return Err(ProofError::WrongLength { expected: 0, got: proof.len() });
        }
        if old_root != new_root {
            return Err(ProofError::RootMismatch);
        }
        return Ok(());
    }
    let expected = consistency_proof_len(old_size, new_size);
    if proof.len() != expected {
        return Err(ProofError::WrongLength { expected, got: proof.len() });
    }
    // The RFC's algorithm, with its `fn` and `sn` as `f` and `s`. When the old tree is a complete
    // subtree the proof omits its hash: it is the old root.
    let (seed, rest) = if old_size.is_power_of_two() { (old_root, proof) } else { (&proof[0], &proof[1..]) };
    let (mut f, mut s) = (old_size - 1, new_size - 1);
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    let (mut fr, mut sr) = (*seed, *seed);
    for c in rest {
        // As in verify_inclusion, these guards duplicate the length check above.
        if s == 0 {
            return Err(ProofError::WrongLength { expected, got: proof.len() });
        }
        if f & 1 == 1 || f == s {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 {
        return Err(ProofError::WrongLength { expected, got: proof.len() });
    }
    if fr != *old_root {
        return Err(ProofError::OldRootMismatch);
    }
    if sr != *new_root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

/// Computes a root from leaf hashes streamed in order, with `O(log n)` memory (for an offline
/// verifier that reads millions of leaves).
///
/// It keeps one hash per set bit of the leaf count: the roots of the complete subtrees the leaves
/// so far form, largest (leftmost) first.
#[derive(Debug, Clone, Default)]
pub struct RootBuilder {
    /// Invariant: `stack[i]` is the root of the complete subtree for the i-th highest set bit of
    /// `len`.
    stack: Vec<Hash>,
    len: u64,
}

impl RootBuilder {
    /// Creates a builder with no leaves.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends the next leaf hash (from [`leaf_hash`]): amortised one node hash per leaf.
    pub fn push(&mut self, leaf: Hash) {
        let mut hash = leaf;
        let mut n = self.len;
        // Each trailing one bit of the old count is a complete subtree of the same size as the
        // one being carried: merge them, like a binary increment.
        while n & 1 == 1 {
            let left = self.stack.pop().expect("one stacked subtree per set bit of len");
            hash = node_hash(&left, &hash);
            n >>= 1;
        }
        self.stack.push(hash);
        self.len += 1;
    }

    /// The number of leaves pushed.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether no leaf has been pushed.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The root of the leaves pushed so far ([`empty_root`] if none).
    pub fn root(&self) -> Hash {
        let mut subtrees = self.stack.iter().rev();
        match subtrees.next() {
            None => empty_root(),
            Some(last) => subtrees.fold(*last, |right, left| node_hash(left, &right)),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use proptest::prelude::*;

    use super::*;

    thread_local! {
        /// How many times [`node_hash`] ran on this thread: lets tests bound the work of a call.
        pub(super) static NODE_HASHES: Cell<u64> = const { Cell::new(0) };
    }

    /// Runs `f` and returns its result with the number of node hashes it computed.
    fn counting<T>(f: impl FnOnce() -> T) -> (T, u64) {
        let before = NODE_HASHES.with(Cell::get);
        let out = f();
        (out, NODE_HASHES.with(Cell::get) - before)
    }

    // ---------------------------------------------------------------------------------------------
    // Known answers. Every expected hash below is copied from the reference test data of the
    // Certificate Transparency / transparency-dev Merkle library (github.com/transparency-dev/merkle):
    // leaf inputs, node hashes and roots from `testonly/constants.go`; inclusion and consistency
    // proofs from `proof/verify_test.go`.
    // ---------------------------------------------------------------------------------------------

    fn bytes(hex: &str) -> Vec<u8> {
        assert_eq!(hex.len() % 2, 0, "odd hex length: {hex}");
        (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect()
    }

    fn hx(hex: &str) -> Hash {
        bytes(hex).try_into().unwrap_or_else(|v: Vec<u8>| panic!("{hex}: {} bytes, not 32", v.len()))
    }

    const KAT_LEAF_INPUTS: [&str; 8] =
        ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"];

    const KAT_EMPTY_ROOT: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    /// Roots of the trees of the first 1..=8 leaf inputs.
    const KAT_ROOTS: [&str; 8] = [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ];

    /// Hashes of all complete subtrees of the 8-leaf tree, by level then position.
    const KAT_NODES: [&[&str]; 4] = [
        &[
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
            "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
        ],
        &[
            "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        ],
        &[
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
        &["5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"],
    ];

    /// (leaf index, tree size, audit path). The reference numbers leaves from 1; these are
    /// 0-based.
    const KAT_INCLUSION: [(u64, u64, &[&str]); 5] = [
        (0, 1, &[]),
        (
            0,
            8,
            &[
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        ),
        (
            5,
            8,
            &[
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
        (2, 3, &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
        (
            1,
            5,
            &[
                "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ],
        ),
    ];

    /// (old size, new size, consistency proof).
    const KAT_CONSISTENCY: [(u64, u64, &[&str]); 5] = [
        (1, 1, &[]),
        (
            1,
            8,
            &[
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        ),
        (
            6,
            8,
            &[
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
        (
            2,
            5,
            &[
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ],
        ),
        (
            6,
            7,
            &[
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
    ];

    fn kat_tree() -> MerkleTree {
        let mut tree = MerkleTree::new();
        for input in KAT_LEAF_INPUTS {
            tree.push(leaf_hash(&bytes(input)));
        }
        tree
    }

    fn hashes(hex: &[&str]) -> Vec<Hash> {
        hex.iter().map(|h| hx(h)).collect()
    }

    #[test]
    fn empty_root_is_the_reference_one() {
        assert_eq!(empty_root(), hx(KAT_EMPTY_ROOT));
        assert_eq!(MerkleTree::new().root(0), Ok(hx(KAT_EMPTY_ROOT)));
        assert_eq!(RootBuilder::new().root(), hx(KAT_EMPTY_ROOT));
        assert_eq!(naive::mth(&[]), hx(KAT_EMPTY_ROOT));
    }

    #[test]
    fn roots_match_the_reference_vectors() {
        let tree = kat_tree();
        let mut builder = RootBuilder::new();
        for (i, input) in KAT_LEAF_INPUTS.iter().enumerate() {
            builder.push(leaf_hash(&bytes(input)));
            let size = i as u64 + 1;
            let want = hx(KAT_ROOTS[i]);
            assert_eq!(tree.root(size), Ok(want), "MerkleTree::root({size})");
            assert_eq!(builder.root(), want, "RootBuilder after {size} leaves");
            assert_eq!(builder.len(), size);
            assert_eq!(naive::mth(&tree.levels[0][..=i]), want, "naive MTH of {size} leaves");
        }
    }

    #[test]
    fn stored_subtrees_match_the_reference_node_hashes() {
        let tree = kat_tree();
        assert_eq!(tree.levels.len(), KAT_NODES.len());
        for (level, want) in KAT_NODES.iter().enumerate() {
            assert_eq!(tree.levels[level], hashes(want), "level {level}");
        }
    }

    #[test]
    fn inclusion_proofs_match_the_reference_vectors() {
        let tree = kat_tree();
        for (index, size, path) in KAT_INCLUSION {
            let want = hashes(path);
            assert_eq!(tree.inclusion_proof(index, size), Ok(want.clone()), "PATH({index}, D[0:{size}])");
            let leaf = leaf_hash(&bytes(KAT_LEAF_INPUTS[index as usize]));
            let root = hx(KAT_ROOTS[size as usize - 1]);
            assert_eq!(verify_inclusion(&leaf, index, size, &want, &root), Ok(()), "verify({index}, {size})");
        }
    }

    #[test]
    fn consistency_proofs_match_the_reference_vectors() {
        let tree = kat_tree();
        for (old, new, proof) in KAT_CONSISTENCY {
            let want = hashes(proof);
            assert_eq!(tree.consistency_proof(old, new), Ok(want.clone()), "PROOF({old}, D[0:{new}])");
            let old_root = hx(KAT_ROOTS[old as usize - 1]);
            let new_root = hx(KAT_ROOTS[new as usize - 1]);
            assert_eq!(verify_consistency(old, new, &old_root, &new_root, &want), Ok(()), "verify({old}, {new})");
        }
    }

    // ---------------------------------------------------------------------------------------------
    // A naive reference, written straight from the recursive definitions of RFC 9162 section 2.1
    // (MTH, PATH, PROOF and SUBPROOF), over the list of leaf hashes.
    // ---------------------------------------------------------------------------------------------

    mod naive {
        use super::super::{empty_root, node_hash, Hash};

        /// The largest power of two smaller than `n`, found by counting up rather than by bits.
        fn k(n: usize) -> usize {
            let mut k = 1;
            while k * 2 < n {
                k *= 2;
            }
            k
        }

        pub fn mth(d: &[Hash]) -> Hash {
            match d.len() {
                0 => empty_root(),
                1 => d[0],
                n => {
                    let k = k(n);
                    node_hash(&mth(&d[..k]), &mth(&d[k..]))
                }
            }
        }

        pub fn path(m: usize, d: &[Hash]) -> Vec<Hash> {
            let n = d.len();
            if n == 1 {
                return Vec::new();
            }
            let k = k(n);
            if m < k {
                let mut p = path(m, &d[..k]);
                p.push(mth(&d[k..]));
                p
            } else {
                let mut p = path(m - k, &d[k..]);
                p.push(mth(&d[..k]));
                p
            }
        }

        pub fn proof(m: usize, d: &[Hash]) -> Vec<Hash> {
            subproof(m, d, true)
        }

        fn subproof(m: usize, d: &[Hash], b: bool) -> Vec<Hash> {
            let n = d.len();
            if m == n {
                return if b { Vec::new() } else { vec![mth(d)] };
            }
            let k = k(n);
            if m <= k {
                let mut p = subproof(m, &d[..k], b);
                p.push(mth(&d[k..]));
                p
            } else {
                let mut p = subproof(m - k, &d[k..], false);
                p.push(mth(&d[..k]));
                p
            }
        }
    }

    /// A tree of `n` distinct leaves derived from `salt`.
    fn tree_of(n: u64, salt: u64) -> MerkleTree {
        let mut tree = MerkleTree::new();
        for i in 0..n {
            let mut input = [0u8; 16];
            input[..8].copy_from_slice(&salt.to_be_bytes());
            input[8..].copy_from_slice(&i.to_be_bytes());
            tree.push(leaf_hash(&input));
        }
        tree
    }

    fn leaves(tree: &MerkleTree) -> &[Hash] {
        tree.levels.first().map_or(&[], Vec::as_slice)
    }

    // ---------------------------------------------------------------------------------------------
    // Exhaustive small cases against the naive reference.
    // ---------------------------------------------------------------------------------------------

    #[test]
    fn every_root_up_to_70_leaves_matches_the_naive_mth_and_the_builder() {
        let tree = tree_of(70, 1);
        let mut builder = RootBuilder::new();
        assert_eq!(tree.len(), 70);
        for size in 0..=70u64 {
            let d = &leaves(&tree)[..size as usize];
            assert_eq!(tree.root(size), Ok(naive::mth(d)), "size {size}");
            assert_eq!(builder.root(), naive::mth(d), "builder, size {size}");
            if size < 70 {
                builder.push(tree.leaf(size).unwrap());
            }
        }
    }

    #[test]
    fn every_inclusion_proof_up_to_70_leaves_matches_the_naive_path_and_verifies() {
        let tree = tree_of(70, 2);
        for size in 1..=70u64 {
            let d = &leaves(&tree)[..size as usize];
            let root = tree.root(size).unwrap();
            for index in 0..size {
                let proof = tree.inclusion_proof(index, size).unwrap();
                assert_eq!(proof, naive::path(index as usize, d), "PATH({index}, D[0:{size}])");
                assert_eq!(proof.len(), inclusion_proof_len(index, size));
                let leaf = tree.leaf(index).unwrap();
                assert_eq!(verify_inclusion(&leaf, index, size, &proof, &root), Ok(()), "verify({index}, {size})");
            }
        }
    }

    #[test]
    fn every_consistency_proof_up_to_40_leaves_matches_the_naive_proof_and_verifies() {
        let tree = tree_of(40, 3);
        for new in 1..=40u64 {
            let d = &leaves(&tree)[..new as usize];
            let new_root = tree.root(new).unwrap();
            for old in 1..=new {
                let proof = tree.consistency_proof(old, new).unwrap();
                let want = if old == new { Vec::new() } else { naive::proof(old as usize, d) };
                assert_eq!(proof, want, "PROOF({old}, D[0:{new}])");
                let old_root = tree.root(old).unwrap();
                assert_eq!(verify_consistency(old, new, &old_root, &new_root, &proof), Ok(()), "verify({old}, {new})");
            }
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Cost: roots and proofs come from the stored subtrees, never from rehashing leaves.
    // ---------------------------------------------------------------------------------------------

    #[test]
    fn pushing_costs_one_node_hash_per_completed_subtree() {
        for n in [1u64, 2, 3, 7, 8, 100, 1000, 1024] {
            let (tree, cost) = counting(|| tree_of(n, 10));
            // Every leaf but the roots of the final stack of subtrees is merged exactly once.
            assert_eq!(cost, n - u64::from(n.count_ones()), "MerkleTree, {n} leaves");
            let (_, cost) = counting(|| {
                let mut builder = RootBuilder::new();
                leaves(&tree).iter().for_each(|leaf| builder.push(*leaf));
                builder
            });
            assert_eq!(cost, n - u64::from(n.count_ones()), "RootBuilder, {n} leaves");
        }
    }

    #[test]
    fn roots_and_proofs_cost_logarithmically_many_node_hashes() {
        let tree = tree_of(1000, 11);
        for size in 1..=1000u64 {
            // One node hash per set bit of the size but one: the right border of the tree.
            let (_, cost) = counting(|| tree.root(size).unwrap());
            assert_eq!(cost, u64::from(size.count_ones()) - 1, "root({size})");
            let depth = u64::from(64 - (size - 1).leading_zeros());
            let bound = depth * depth;
            let step = if size <= 128 { 1 } else { 37 };
            for index in (0..size).step_by(step) {
                let (proof, cost) = counting(|| tree.inclusion_proof(index, size).unwrap());
                assert!(cost <= bound, "inclusion_proof({index}, {size}): {cost} node hashes, bound {bound}");
                // Each hash of the path is one stored subtree plus its right border at most.
                assert!(cost <= proof.len() as u64 * depth, "inclusion_proof({index}, {size}): {cost}");
            }
            for old in (1..=size).step_by(step) {
                let (_, cost) = counting(|| tree.consistency_proof(old, size).unwrap());
                assert!(cost <= bound, "consistency_proof({old}, {size}): {cost} node hashes, bound {bound}");
            }
        }
        // A complete tree's proofs are pure lookups.
        let tree = tree_of(1024, 12);
        for index in 0..1024 {
            let (_, cost) = counting(|| tree.inclusion_proof(index, 1024).unwrap());
            assert_eq!(cost, 0, "inclusion_proof({index}, 1024)");
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Tampering and malformed input.
    // ---------------------------------------------------------------------------------------------

    fn flip(hash: &Hash, bit: usize) -> Hash {
        let mut h = *hash;
        h[bit / 8] ^= 1 << (bit % 8);
        h
    }

    const TAMPER_SIZES: [u64; 12] = [1, 2, 3, 4, 5, 7, 8, 9, 12, 16, 17, 21];

    #[test]
    fn any_flipped_bit_breaks_an_inclusion_proof() {
        let tree = tree_of(21, 4);
        for size in TAMPER_SIZES {
            let root = tree.root(size).unwrap();
            for index in 0..size {
                let leaf = tree.leaf(index).unwrap();
                let proof = tree.inclusion_proof(index, size).unwrap();
                for bit in 0..256 {
                    let ctx = format!("index {index}, size {size}, bit {bit}");
                    assert!(verify_inclusion(&flip(&leaf, bit), index, size, &proof, &root).is_err(), "leaf, {ctx}");
                    assert!(verify_inclusion(&leaf, index, size, &proof, &flip(&root, bit)).is_err(), "root, {ctx}");
                    for i in 0..proof.len() {
                        let mut bad = proof.clone();
                        bad[i] = flip(&bad[i], bit);
                        assert!(verify_inclusion(&leaf, index, size, &bad, &root).is_err(), "proof[{i}], {ctx}");
                    }
                }
            }
        }
    }

    #[test]
    fn any_flipped_bit_breaks_a_consistency_proof() {
        let tree = tree_of(21, 5);
        for new in TAMPER_SIZES {
            let new_root = tree.root(new).unwrap();
            for old in 1..=new {
                let old_root = tree.root(old).unwrap();
                let proof = tree.consistency_proof(old, new).unwrap();
                for bit in 0..256 {
                    let ctx = format!("old {old}, new {new}, bit {bit}");
                    let bad_old = flip(&old_root, bit);
                    let bad_new = flip(&new_root, bit);
                    assert!(verify_consistency(old, new, &bad_old, &new_root, &proof).is_err(), "old root, {ctx}");
                    assert!(verify_consistency(old, new, &old_root, &bad_new, &proof).is_err(), "new root, {ctx}");
                    for i in 0..proof.len() {
                        let mut bad = proof.clone();
                        bad[i] = flip(&bad[i], bit);
                        let res = verify_consistency(old, new, &old_root, &new_root, &bad);
                        assert!(res.is_err(), "proof[{i}], {ctx}");
                    }
                }
            }
        }
    }

    #[test]
    fn inclusion_proofs_of_the_wrong_length_or_position_fail() {
        let tree = tree_of(21, 6);
        let other = hx(KAT_ROOTS[7]);
        for size in TAMPER_SIZES {
            let root = tree.root(size).unwrap();
            for index in 0..size {
                let leaf = tree.leaf(index).unwrap();
                let proof = tree.inclusion_proof(index, size).unwrap();
                let n = proof.len();
                let ctx = format!("index {index}, size {size}");

                let mut longer = proof.clone();
                longer.push(other);
                let err = ProofError::WrongLength { expected: n, got: n + 1 };
                assert_eq!(verify_inclusion(&leaf, index, size, &longer, &root), Err(err.clone()), "extra, {ctx}");
                let mut front = vec![root];
                front.extend_from_slice(&proof);
                assert_eq!(verify_inclusion(&leaf, index, size, &front, &root), Err(err), "prepended, {ctx}");
                for i in 0..n {
                    let mut shorter = proof.clone();
                    shorter.remove(i);
                    let err = ProofError::WrongLength { expected: n, got: n - 1 };
                    assert_eq!(verify_inclusion(&leaf, index, size, &shorter, &root), Err(err), "missing {i}, {ctx}");
                }

                for bad_index in [size, size + 1, u64::MAX] {
                    let err = ProofError::IndexOutOfRange { index: bad_index, size };
                    assert_eq!(verify_inclusion(&leaf, bad_index, size, &proof, &root), Err(err), "{bad_index}, {ctx}");
                }
                // The same proof presented for a neighbouring position or another tree size (the
                // probes of the reference's verify_test.go).
                let probes = [
                    (index.wrapping_sub(1), size),
                    (index + 1, size),
                    (index ^ 2, size),
                    (index, size * 2),
                    (index / 2, size / 2),
                ];
                for (i, s) in probes {
                    if (i, s) != (index, size) {
                        let res = verify_inclusion(&leaf, i, s, &proof, &root);
                        assert!(res.is_err(), "leaf {index} of {size} presented as ({i}, {s})");
                    }
                }
            }
        }
        // The empty tree holds no leaf.
        let leaf = tree.leaf(0).unwrap();
        let err = ProofError::IndexOutOfRange { index: 0, size: 0 };
        assert_eq!(verify_inclusion(&leaf, 0, 0, &[], &empty_root()), Err(err));
    }

    #[test]
    fn consistency_proofs_of_the_wrong_length_or_sizes_fail() {
        let tree = tree_of(21, 7);
        let other = hx(KAT_ROOTS[7]);
        for new in TAMPER_SIZES {
            let new_root = tree.root(new).unwrap();
            for old in 1..new {
                let old_root = tree.root(old).unwrap();
                let proof = tree.consistency_proof(old, new).unwrap();
                let n = proof.len();
                let ctx = format!("old {old}, new {new}");

                for extra in [other, old_root, new_root, proof[0]] {
                    let mut longer = proof.clone();
                    longer.push(extra);
                    let err = ProofError::WrongLength { expected: n, got: n + 1 };
                    let res = verify_consistency(old, new, &old_root, &new_root, &longer);
                    assert_eq!(res, Err(err.clone()), "appended, {ctx}");
                    let mut front = vec![extra];
                    front.extend_from_slice(&proof);
                    let res = verify_consistency(old, new, &old_root, &new_root, &front);
                    assert_eq!(res, Err(err), "prepended, {ctx}");
                }
                for i in 0..n {
                    let mut shorter = proof.clone();
                    shorter.remove(i);
                    let err = ProofError::WrongLength { expected: n, got: n - 1 };
                    let res = verify_consistency(old, new, &old_root, &new_root, &shorter);
                    assert_eq!(res, Err(err), "missing {i}, {ctx}");
                }
                let swapped = verify_consistency(old, new, &new_root, &old_root, &proof);
                assert!(swapped.is_err(), "swapped roots, {ctx}");
                for (o, s) in [(old + 1, new), (old - 1, new), (old ^ 2, new), (old, new * 2), (old, new / 2)] {
                    if (o, s) != (old, new) {
                        let res = verify_consistency(o, s, &old_root, &new_root, &proof);
                        assert!(res.is_err(), "sizes ({o}, {s}), {ctx}");
                    }
                }
            }
        }
    }

    #[test]
    fn consistency_of_equal_sizes_needs_an_empty_proof_and_equal_roots() {
        let tree = tree_of(5, 8);
        let (r3, r4) = (tree.root(3).unwrap(), tree.root(4).unwrap());
        assert_eq!(verify_consistency(3, 3, &r3, &r3, &[]), Ok(()));
        assert_eq!(verify_consistency(3, 3, &r3, &r4, &[]), Err(ProofError::RootMismatch));
        assert_eq!(verify_consistency(3, 3, &r3, &r3, &[r3]), Err(ProofError::WrongLength { expected: 0, got: 1 }));
    }

    #[test]
    fn bad_sizes_and_ranges_are_rejected() {
        let tree = tree_of(5, 9);
        let r = tree.root(5).unwrap();
        assert_eq!(tree.root(6), Err(ProofError::SizeBeyondTree { size: 6, len: 5 }));
        assert_eq!(tree.inclusion_proof(0, 6), Err(ProofError::SizeBeyondTree { size: 6, len: 5 }));
        assert_eq!(tree.inclusion_proof(5, 5), Err(ProofError::IndexOutOfRange { index: 5, size: 5 }));
        assert_eq!(tree.inclusion_proof(0, 0), Err(ProofError::IndexOutOfRange { index: 0, size: 0 }));
        assert_eq!(tree.consistency_proof(2, 6), Err(ProofError::SizeBeyondTree { size: 6, len: 5 }));
        assert_eq!(tree.consistency_proof(0, 5), Err(ProofError::BadRange { old: 0, new: 5 }));
        assert_eq!(tree.consistency_proof(4, 3), Err(ProofError::BadRange { old: 4, new: 3 }));
        assert_eq!(verify_consistency(0, 5, &empty_root(), &r, &[]), Err(ProofError::BadRange { old: 0, new: 5 }));
        assert_eq!(verify_consistency(5, 4, &r, &r, &[]), Err(ProofError::BadRange { old: 5, new: 4 }));
        assert_eq!(tree.leaf(5), None);
        assert_eq!(tree.leaf(u64::MAX), None);
        assert_eq!(MerkleTree::new().leaf(0), None);
    }

    #[test]
    fn lengths_and_emptiness_are_reported() {
        let mut tree = MerkleTree::new();
        let mut builder = RootBuilder::new();
        assert!(tree.is_empty() && builder.is_empty());
        assert_eq!((tree.len(), builder.len()), (0, 0));
        for i in 0..9u64 {
            tree.push(leaf_hash(&i.to_be_bytes()));
            builder.push(leaf_hash(&i.to_be_bytes()));
        }
        assert!(!tree.is_empty() && !builder.is_empty());
        assert_eq!((tree.len(), builder.len()), (9, 9));
        assert_eq!(tree.leaf(8), Some(leaf_hash(&8u64.to_be_bytes())));
        // Nine leaves keep one subtree of eight and one of one: memory stays O(log n).
        assert_eq!(builder.stack.len(), 2);
        assert_eq!(tree.levels.iter().map(Vec::len).collect::<Vec<_>>(), [9, 4, 2, 1]);
    }

    #[test]
    fn error_messages_name_the_values() {
        let msg = ProofError::IndexOutOfRange { index: 7, size: 3 }.to_string();
        assert_eq!(msg, "leaf index 7 is out of range for tree size 3");
        let msg = ProofError::WrongLength { expected: 3, got: 4 }.to_string();
        assert_eq!(msg, "proof has 4 hashes where 3 are expected");
    }

    // ---------------------------------------------------------------------------------------------
    // Larger trees, at random.
    // ---------------------------------------------------------------------------------------------

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        #[test]
        fn larger_trees_agree_with_the_naive_reference(
            len in 1u64..3000,
            salt in any::<u64>(),
            picks in proptest::collection::vec((any::<u64>(), any::<u64>(), any::<u64>()), 4),
        ) {
            let tree = tree_of(len, salt);
            let d = leaves(&tree);
            let mut builder = RootBuilder::new();
            d.iter().for_each(|leaf| builder.push(*leaf));
            prop_assert_eq!(builder.root(), naive::mth(d));
            prop_assert_eq!(tree.root(len), Ok(builder.root()));

            for (a, b, c) in picks {
                let size = 1 + a % len;
                let index = b % size;
                let old = 1 + c % size;
                let d = &d[..size as usize];

                let root = tree.root(size).unwrap();
                prop_assert_eq!(root, naive::mth(d));

                let proof = tree.inclusion_proof(index, size).unwrap();
                prop_assert_eq!(&proof, &naive::path(index as usize, d));
                let leaf = tree.leaf(index).unwrap();
                prop_assert_eq!(verify_inclusion(&leaf, index, size, &proof, &root), Ok(()));
                let bit = (a % 256) as usize;
                prop_assert!(verify_inclusion(&flip(&leaf, bit), index, size, &proof, &root).is_err());
                if !proof.is_empty() {
                    let mut bad = proof.clone();
                    let i = (c % proof.len() as u64) as usize;
                    bad[i] = flip(&bad[i], bit);
                    prop_assert!(verify_inclusion(&leaf, index, size, &bad, &root).is_err());
                }

                let old_root = tree.root(old).unwrap();
                let proof = tree.consistency_proof(old, size).unwrap();
                let want = if old == size { Vec::new() } else { naive::proof(old as usize, d) };
                prop_assert_eq!(&proof, &want);
                prop_assert_eq!(verify_consistency(old, size, &old_root, &root, &proof), Ok(()));
                if old < size {
                    prop_assert!(verify_consistency(old, size, &flip(&old_root, bit), &root, &proof).is_err());
                    prop_assert!(verify_consistency(old, size, &old_root, &flip(&root, bit), &proof).is_err());
                    let mut bad = proof.clone();
                    let i = (b % proof.len() as u64) as usize;
                    bad[i] = flip(&bad[i], bit);
                    prop_assert!(verify_consistency(old, size, &old_root, &root, &bad).is_err());
                }
            }
        }
    }
}
