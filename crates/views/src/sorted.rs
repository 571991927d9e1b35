//! A set held as a sorted vector while it is small: the views' indexes hold millions of small
//! sets (a mention's identifiers and places, the mentions sharing one identifier or place), most
//! of one to three members. A `BTreeSet` allocates a node of eleven slots for its first member;
//! a small set here holds its members in one allocation of their own size. A set that grows past
//! [`LARGE`] members (a placeholder phone number or a hostel's address that thousands of records
//! give) becomes a `BTreeSet`, so that building it stays O(n log n). Either way the members come
//! in ascending order, so iteration (and every view derived from it) is that of a `BTreeSet`.

use std::borrow::Borrow;
use std::collections::BTreeSet;

/// Members beyond which a set is held as a `BTreeSet`.
const LARGE: usize = 64;

/// A set of `T` in ascending order, without duplicates.
#[derive(Debug, Clone)]
pub enum SortedSet<T> {
    Small(Vec<T>),
    Large(BTreeSet<T>),
}

impl<T> Default for SortedSet<T> {
    fn default() -> Self {
        SortedSet::Small(Vec::new())
    }
}

impl<T: Ord> SortedSet<T> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `value`; whether it was not there yet.
    pub fn insert(&mut self, value: T) -> bool {
        let v = match self {
            SortedSet::Large(t) => return t.insert(value),
            SortedSet::Small(v) => v,
        };
        let Err(i) = v.binary_search(&value) else { return false };
        if v.len() >= LARGE {
            let mut t: BTreeSet<T> = std::mem::take(v).into_iter().collect();
            t.insert(value);
            *self = SortedSet::Large(t);
            return true;
        }
        if v.len() == v.capacity() {
            // Grow by little: most sets stay small.
            v.reserve_exact((v.len() / 2).max(1));
        }
        v.insert(i, value);
        true
    }

    /// Takes `value` out; whether it was there.
    pub fn remove<Q: Ord + ?Sized>(&mut self, value: &Q) -> bool
    where
        T: Borrow<Q>,
    {
        match self {
            SortedSet::Large(t) => t.remove(value),
            SortedSet::Small(v) => match v.binary_search_by(|x| x.borrow().cmp(value)) {
                Ok(i) => {
                    v.remove(i);
                    if v.capacity() > 2 * v.len() + 4 {
                        v.shrink_to_fit();
                    }
                    true
                }
                Err(_) => false,
            },
        }
    }

    pub fn contains<Q: Ord + ?Sized>(&self, value: &Q) -> bool
    where
        T: Borrow<Q>,
    {
        match self {
            SortedSet::Large(t) => t.contains(value),
            SortedSet::Small(v) => v.binary_search_by(|x| x.borrow().cmp(value)).is_ok(),
        }
    }

    /// Whether every member of `other` is a member of this set.
    pub fn is_superset(&self, other: &SortedSet<T>) -> bool {
        if other.len() > self.len() {
            return false;
        }
        let mut mine = self.iter();
        'next: for x in other {
            for y in mine.by_ref() {
                match y.cmp(x) {
                    std::cmp::Ordering::Less => continue,
                    std::cmp::Ordering::Equal => continue 'next,
                    std::cmp::Ordering::Greater => return false,
                }
            }
            return false;
        }
        true
    }
}

impl<T> SortedSet<T> {
    pub fn len(&self) -> usize {
        match self {
            SortedSet::Small(v) => v.len(),
            SortedSet::Large(t) => t.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The members in ascending order.
    pub fn iter(&self) -> Iter<'_, T> {
        match self {
            SortedSet::Small(v) => Iter::Small(v.iter()),
            SortedSet::Large(t) => Iter::Large(t.iter()),
        }
    }
}

impl<T: PartialEq> PartialEq for SortedSet<T> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().zip(other.iter()).all(|(a, b)| a == b)
    }
}

impl<T: Eq> Eq for SortedSet<T> {}

/// The members of a [`SortedSet`] in ascending order.
#[derive(Debug, Clone)]
pub enum Iter<'a, T> {
    Small(std::slice::Iter<'a, T>),
    Large(std::collections::btree_set::Iter<'a, T>),
}

impl<'a, T> Iterator for Iter<'a, T> {
    type Item = &'a T;
    fn next(&mut self) -> Option<&'a T> {
        match self {
            Iter::Small(i) => i.next(),
            Iter::Large(i) => i.next(),
        }
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        match self {
            Iter::Small(i) => i.size_hint(),
            Iter::Large(i) => i.size_hint(),
        }
    }
}

impl<T: Ord> FromIterator<T> for SortedSet<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        let mut v: Vec<T> = iter.into_iter().collect();
        if v.len() > LARGE {
            return SortedSet::Large(v.into_iter().collect());
        }
        v.sort_unstable();
        v.dedup();
        v.shrink_to_fit();
        SortedSet::Small(v)
    }
}

impl<'a, T> IntoIterator for &'a SortedSet<T> {
    type Item = &'a T;
    type IntoIter = Iter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::SortedSet;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    proptest! {
        /// Any sequence of inserts and removes leaves the same members, in the same order, as a
        /// `BTreeSet` given the same sequence, with the same answers on the way, small or large.
        #[test]
        fn behaves_as_a_btreeset(ops in proptest::collection::vec((any::<bool>(), 0u16..200), 0..600),
                                 other in proptest::collection::vec(0u16..200, 0..100)) {
            let mut mine = SortedSet::new();
            let mut theirs = BTreeSet::new();
            for (add, x) in ops {
                if add {
                    prop_assert_eq!(mine.insert(x), theirs.insert(x));
                } else {
                    prop_assert_eq!(mine.remove(&x), theirs.remove(&x));
                }
                prop_assert_eq!(mine.contains(&x), theirs.contains(&x));
            }
            prop_assert_eq!(mine.iter().collect::<Vec<_>>(), theirs.iter().collect::<Vec<_>>());
            prop_assert_eq!(mine.len(), theirs.len());
            let o: SortedSet<u16> = other.iter().copied().collect();
            let ob: BTreeSet<u16> = other.iter().copied().collect();
            prop_assert_eq!(o.iter().collect::<Vec<_>>(), ob.iter().collect::<Vec<_>>());
            prop_assert_eq!(mine.is_superset(&o), theirs.is_superset(&ob));
            prop_assert_eq!(o.is_superset(&mine), ob.is_superset(&theirs));
            let same: SortedSet<u16> = theirs.iter().copied().collect();
            prop_assert!(same == mine);
        }
    }

    #[test]
    fn a_large_set_is_a_tree_and_keeps_its_order() {
        let mut s = SortedSet::new();
        for x in (0..1000u32).rev() {
            assert!(s.insert(x));
        }
        assert!(matches!(s, SortedSet::Large(_)));
        assert!(s.iter().copied().eq(0..1000));
    }
}
