import { AgentPhoneError } from '../../errors/index.ts';

export type MediaErrorCode = 'MEDIA_FORBIDDEN_ADDRESS' | 'MEDIA_TOO_LARGE' | 'MEDIA_TOO_MANY' | 'MEDIA_TYPE' | 'MEDIA_FETCH_FAILED' | 'MEDIA_TIMEOUT' | 'MEDIA_REDIRECTS';

/** A media URL that cannot go into an MMS: its message names the URL's problem, never its bytes. */
export class MediaError extends AgentPhoneError {
  constructor(code: MediaErrorCode, message: string, retryable = false) {
    super(code, message, { status: 400, retryable });
  }
}
