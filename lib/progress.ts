// Long work reports progress through a listener; the command line draws it (on a TTY only).
export interface ProgressEvent {
  /** What is being done, e.g. 'encoding documents'. */
  label: string;
  done: number;
  total: number;
  unit: string;
}

export type ProgressListener = (event: ProgressEvent) => void;
