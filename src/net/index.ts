export { readBoundedBody } from './bounded-body.ts';
export { AddressList, AddressPolicy, isPublicAddress } from './address-policy.ts';
export { guardedRequest, urlOptions, type AddressGate, type Refusal } from './guarded-request.ts';
export { egressFetch, type FetchLike } from './egress-fetch.ts';
export { EgressRefusedError } from './egress-error.ts';
export { EgressPolicy, EGRESS_PURPOSES, configuredHosts, describeEgressPolicy, type EgressMode, type EgressPurpose, type EgressTarget } from './egress-policy.ts';
export { createEgress, type Egress } from './egress.ts';
export { openTestExtraConnection } from './test-extra-connect.ts';
