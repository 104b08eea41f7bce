// A problem with the dbt project or a build that the user can act on: its message is the sentence shown.
export class TransformError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TransformError';
  }
}
