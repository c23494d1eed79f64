/**
 * A set that does not keep its members alive: a provider whose handle the program dropped can be
 * collected. One with queued events stays reachable through its own flush timer until written.
 */
export class WeakMembers<T extends object> {
  private readonly refs = new Set<WeakRef<T>>();
  private readonly byMember = new WeakMap<T, WeakRef<T>>();

  add(member: T): void {
    if (this.byMember.has(member)) return;
    const ref = new WeakRef(member);
    this.byMember.set(member, ref);
    this.refs.add(ref);
  }

  delete(member: T): void {
    const ref = this.byMember.get(member);
    if (ref) this.refs.delete(ref);
    this.byMember.delete(member);
  }

  /** The members still alive (collected ones are forgotten on the way). */
  *[Symbol.iterator](): IterableIterator<T> {
    for (const ref of this.refs) {
      const member = ref.deref();
      if (member) yield member;
      else this.refs.delete(ref);
    }
  }
}
