// A set of a few members kept in an array, in insertion order (a Set's iteration order), with the
// Set methods the kernel uses. For sets that every vas_switch or CR3 load changes (the threads in
// an attached space, the CPUs a pmap is active on): a Set pays for add/delete churn in host time
// (its deleted entries fill the table until it is rebuilt), an array of a few members does not.

export class SmallSet<T> implements Iterable<T> {
  private readonly items: T[] = [];

  get size(): number { return this.items.length; }

  has(v: T): boolean { return this.items.includes(v); }

  add(v: T): this {
    if (!this.items.includes(v)) this.items.push(v);
    return this;
  }

  delete(v: T): boolean {
    const a = this.items;
    const i = a.indexOf(v);
    if (i < 0) return false;
    for (let j = i + 1; j < a.length; j++) a[j - 1] = a[j];
    a.pop();
    return true;
  }

  clear(): void { this.items.length = 0; }

  [Symbol.iterator](): Iterator<T> { return this.items[Symbol.iterator](); }
}
