/** Resolves when `register`'s callback is called, or after `ms`, whichever comes first. */
export function waitOrTimeout(register: (resolve: () => void) => void, ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    register(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
