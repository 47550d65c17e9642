import { StoreError } from './types.js';

/** A SCIM resource's userName or displayName (case-insensitively), or externalId, is taken. */
export class ScimUniquenessError extends StoreError {
  constructor(
    readonly attribute: 'userName' | 'displayName' | 'externalId',
    readonly value: string,
  ) {
    super(`${attribute} already exists: ${value}`);
    this.name = 'ScimUniquenessError';
  }
}
