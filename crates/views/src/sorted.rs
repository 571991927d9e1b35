//! A set held as a sorted vector: the views' indexes hold millions of small sets (a mention's
//! identifiers and places, the mentions sharing one identifier or place), most of one to three
//! members. A `BTreeSet` allocates a node of eleven slots for its first member; this holds its
//! members in one allocation of their own size, in the same order, so iteration (and so every
//! view derived from it) is unchanged. Inserting into or removing from a set of n members moves
//! up to n of them: fine for these sets, whose large ones (hubs) are read far more than changed.

use std::borrow::Borrow;

/// A set of `T` in ascending order, without duplicates.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SortedSet<T>(Vec<T>);

impl<T> Default for SortedSet<T> {
    fn default() -> Self {
        SortedSet(Vec::new())
    }
}

impl<T: Ord> SortedSet<T> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `value`; whether it was not there yet.
    pub fn insert(&mut self, value: T) -> bool {
        match self.0.binary_search(&value) {
            Ok(_) => false,
            Err(i) => {
                if self.0.len() == self.0.capacity() {
                    // Grow by little: most sets stay small.
                    self.0.reserve_exact((self.0.len() / 2).max(1));
                }
                self.0.insert(i, value);
                true
            }
        }
    }

    /// Takes `value` out; whether it was there.
    pub fn remove<Q: Ord + ?Sized>(&mut self, value: &Q) -> bool
    where
        T: Borrow<Q>,
    {
        match self.0.binary_search_by(|x| x.borrow().cmp(value)) {
            Ok(i) => {
                self.0.remove(i);
                if self.0.capacity() > 2 * self.0.len() + 4 {
                    self.0.shrink_to_fit();
                }
                true
            }
            Err(_) => false,
        }
    }

    pub fn contains<Q: Ord + ?Sized>(&self, value: &Q) -> bool
    where
        T: Borrow<Q>,
    {
        self.0.binary_search_by(|x| x.borrow().cmp(value)).is_ok()
    }

    /// Whether every member of `other` is a member of this set.
    pub fn is_superset(&self, other: &SortedSet<T>) -> bool {
        let mut mine = self.0.iter();
        'next: for x in &other.0 {
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
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The members in ascending order.
    pub fn iter(&self) -> std::slice::Iter<'_, T> {
        self.0.iter()
    }

    pub fn as_slice(&self) -> &[T] {
        &self.0
    }
}

impl<T: Ord> FromIterator<T> for SortedSet<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        let mut v: Vec<T> = iter.into_iter().collect();
        v.sort_unstable();
        v.dedup();
        v.shrink_to_fit();
        SortedSet(v)
    }
}

impl<'a, T> IntoIterator for &'a SortedSet<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl<T> IntoIterator for SortedSet<T> {
    type Item = T;
    type IntoIter = std::vec::IntoIter<T>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

#[cfg(test)]
mod tests {
    use super::SortedSet;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    proptest! {
        /// Any sequence of inserts and removes leaves the same members, in the same order, as a
        /// `BTreeSet` given the same sequence, with the same answers on the way.
        #[test]
        fn behaves_as_a_btreeset(ops in proptest::collection::vec((any::<bool>(), 0u8..40), 0..300),
                                 other in proptest::collection::vec(0u8..40, 0..12)) {
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
            let o: SortedSet<u8> = other.iter().copied().collect();
            let ob: BTreeSet<u8> = other.iter().copied().collect();
            prop_assert_eq!(o.iter().collect::<Vec<_>>(), ob.iter().collect::<Vec<_>>());
            prop_assert_eq!(mine.is_superset(&o), theirs.is_superset(&ob));
        }
    }
}
