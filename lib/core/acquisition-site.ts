/** Where a lease was acquired: a captured stack, formatted only if a leak is reported. */
export class AcquisitionSite {
  declare readonly stack: string;

  /** The caller's frames, without the header line. */
  describe(): string {
    const stack = typeof this.stack === 'string' ? this.stack : '';
    const firstFrame = stack.indexOf('\n');
    return firstFrame === -1 ? stack : stack.slice(firstFrame + 1);
  }
}
