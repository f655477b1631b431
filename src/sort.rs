//! One stable sort for the whole crate, compiled once (see [`stable_order`]).

/// The permutation that stably sorts `n` items, given `less(i, j)` ("item `i` sorts before item
/// `j`"): a bottom-up merge sort on indices.
///
/// Why not `slice::sort_by`: every call site of std's sort instantiates its own copy of the
/// quicksort/driftsort machinery (several KiB of Wasm each, over 60 KiB in all), while this one
/// is compiled once behind a `dyn` comparison. Every sort in the crate runs on config-sized or
/// template-sized inputs, where the dynamic call costs nothing measurable.
pub(crate) fn stable_order(n: usize, less: &mut dyn FnMut(usize, usize) -> bool) -> Vec<usize> {
    let mut src: Vec<usize> = (0..n).collect();
    let mut dst: Vec<usize> = Vec::with_capacity(n);
    let mut width = 1;
    while width < n {
        dst.clear();
        let mut start = 0;
        while start < n {
            let mid = (start + width).min(n);
            let end = (start + 2 * width).min(n);
            let (left, right) = (src.get(start..mid).unwrap_or(&[]), src.get(mid..end).unwrap_or(&[]));
            let (mut i, mut j) = (0, 0);
            while let (Some(&a), Some(&b)) = (left.get(i), right.get(j)) {
                // Take from the right only when strictly smaller: equal items keep their order.
                if less(b, a) {
                    dst.push(b);
                    j += 1;
                } else {
                    dst.push(a);
                    i += 1;
                }
            }
            dst.extend_from_slice(left.get(i..).unwrap_or(&[]));
            dst.extend_from_slice(right.get(j..).unwrap_or(&[]));
            start = end;
        }
        std::mem::swap(&mut src, &mut dst);
        width *= 2;
    }
    src
}

/// The indexes (ascending) of the items equal to an earlier one, `key(i)` being item `i`'s key:
/// sorted once, so thousands of ids or keys take O(n log n), not a comparison of every pair.
pub(crate) fn repeats<'k>(n: usize, key: &dyn Fn(usize) -> Option<&'k str>) -> Vec<usize> {
    let order = stable_order(n, &mut |i, j| key(i) < key(j));
    // Equal keys are adjacent, the first in document order first: flag the others.
    let mut repeated = vec![false; n];
    for pair in order.windows(2) {
        if let [a, b] = *pair {
            if key(a) == key(b) {
                if let Some(r) = repeated.get_mut(b) {
                    *r = true;
                }
            }
        }
    }
    (0..n).filter(|&i| repeated.get(i) == Some(&true)).collect()
}

/// Stably sorts `items` by `less` through [`stable_order`] (one shared sort, see there).
pub(crate) fn sort_stable_by<T>(items: &mut Vec<T>, less: &mut dyn FnMut(&T, &T) -> bool) {
    if items.len() < 2 {
        return;
    }
    let order = stable_order(items.len(), &mut |i, j| match (items.get(i), items.get(j)) {
        (Some(a), Some(b)) => less(a, b),
        _ => false,
    });
    permute(items, order);
}

/// Puts `items` in the order `order` (a permutation of their indices).
pub(crate) fn permute<T>(items: &mut Vec<T>, order: Vec<usize>) {
    let mut slots: Vec<Option<T>> = std::mem::take(items).into_iter().map(Some).collect();
    items.extend(order.into_iter().filter_map(|i| slots.get_mut(i).and_then(Option::take)));
}

#[cfg(test)]
mod tests {
    #[test]
    fn shared_sort_is_stable_like_std() {
        let items: Vec<(u8, usize)> = (0..200).map(|i| ((i * 37 % 11) as u8, i)).collect();
        for n in [0, 1, 2, 3, 7, 64, 200] {
            let mut ours = items.get(..n).unwrap().to_vec();
            let mut std = ours.clone();
            super::sort_stable_by(&mut ours, &mut |a, b| a.0 < b.0);
            std.sort_by_key(|x| x.0);
            assert_eq!(ours, std);
        }
    }

    #[test]
    fn repeats_are_the_later_copies_in_document_order() {
        let keys = ["b", "a", "b", "c", "a", "b"];
        assert_eq!(super::repeats(keys.len(), &|i| keys.get(i).copied()), [2, 4, 5]);
        assert!(super::repeats(0, &|_| None).is_empty());
    }
}
