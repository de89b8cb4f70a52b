/** The address rules live with the egress policy (src/net); media fetches use them as they are. */
export { AddressPolicy } from '../../net/index.ts';
