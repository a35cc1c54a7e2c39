import type { Dot, DotCover, VersionVector } from '../dvv.js';
import { joinDotSet, vvCovers, vvJoin, vvWith } from '../dvv.js';

/**
 * OR-Set, add-wins (the AW-Set of Almeida, Shoker, Baquero; theory.md §11): each element maps
 * to the dots of the adds that are still live. An add replaces the element's observed dots by
 * its own; a remove drops the observed dots (those the remover's context covers). A remove
 * concurrent with an add cannot cover the add's dot, so the add wins. Every operation, remove
 * included, advances the context by its own dot (an event the version summary counts).
 */
export interface SetElement {
  readonly element: string;
  /** Sorted by dot. */
  readonly dots: readonly Dot[];
}

export interface SetState {
  readonly context: VersionVector;
  /** Sorted by element (UTF-16 order); no element with an empty dot list. */
  readonly elements: readonly SetElement[];
}

export function addElement(s: SetState, dot: Dot, element: string): SetState {
  const old = s.elements;
  const out: SetElement[] = [];
  const mine: SetElement = { element, dots: [dot] };
  let placed = false;
  for (let i = 0; i < old.length; i++) {
    const x = old[i] as SetElement;
    if (!placed && x.element >= element) {
      out.push(mine);
      placed = true;
      if (x.element === element) continue;
    }
    out.push(x);
  }
  if (!placed) out.push(mine);
  return { context: vvWith(s.context, dot.origin, dot.counter), elements: out };
}

/**
 * Removes the dots of `element` (or of every element when `element` is undefined) that `read`
 * covers (by default the local context: everything observed here), as operation `dot`.
 */
export function removeElements(s: SetState, dot: Dot, element: string | undefined, read?: VersionVector): SetState {
  const ctx = read ?? s.context;
  const out: SetElement[] = [];
  for (const x of s.elements) {
    if (element !== undefined && x.element !== element) {
      out.push(x);
      continue;
    }
    const dots: Dot[] = [];
    for (const d of x.dots) if (!vvCovers(ctx, d.origin, d.counter)) dots.push(d);
    if (dots.length > 0) out.push(dots.length === x.dots.length ? x : { element: x.element, dots });
  }
  return { context: vvWith(vvJoin(s.context, read ?? s.context), dot.origin, dot.counter), elements: out };
}

const NO_DOTS: readonly Dot[] = Object.freeze([]);

export function joinSet(a: SetState, b: SetState, seenA?: DotCover): SetState {
  const context = vvJoin(a.context, b.context);
  const ea = a.elements;
  const eb = b.elements;
  const out: SetElement[] = [];
  let changed = false;
  let i = 0;
  let j = 0;
  while (i < ea.length || j < eb.length) {
    const x = ea[i];
    const y = eb[j];
    let element: string;
    let da: readonly Dot[];
    let db: readonly Dot[];
    if (y === undefined || (x !== undefined && x.element < y.element)) {
      element = (x as SetElement).element;
      da = (x as SetElement).dots;
      db = NO_DOTS;
      i++;
    } else if (x === undefined || y.element < x.element) {
      element = y.element;
      da = NO_DOTS;
      db = y.dots;
      j++;
    } else {
      element = x.element;
      da = x.dots;
      db = y.dots;
      i++;
      j++;
    }
    const dots = joinDotSet(da, a.context, db, b.context, seenA);
    if (dots === da) {
      // Unchanged: `da` is x's own list (or empty, when only b had the element and lost it).
      if (da.length > 0) out.push(x as SetElement);
      continue;
    }
    changed = true;
    if (dots.length > 0) out.push({ element, dots });
  }
  if (!changed && context === a.context) return a;
  return { context, elements: changed ? out : a.elements };
}

export function setMembers(s: SetState): string[] {
  const out: string[] = [];
  for (const x of s.elements) out.push(x.element);
  return out;
}
