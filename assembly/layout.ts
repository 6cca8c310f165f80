// The WASM codec's copy of the wire format's numbers (src/codec/layout.ts is the TypeScript one;
// the golden vectors and property tests in test/codec/ check that they agree).

export const FRAME_VERSION: u32 = 1;
export const HEADER_BYTES: u32 = 16;
export const NULL_LENGTH: u32 = 0xffffffff;
export const ENTRY_HEADER_BYTES: u32 = 21;
export const U64_HIGH_MAX: u32 = 0x1fffff;
export const NODE_ID_BYTES_MAX: u32 = 255;
export const SAFE_INTEGER_MAX: f64 = 9007199254740991.0;

// Error numbers (negated in return values); src/codec/errors.ts maps them to codes.
export const ERR_CHECKSUM: i32 = 1;
export const ERR_UNKNOWN_TYPE: i32 = 2;
export const ERR_FRAME_TOO_LARGE: i32 = 3;
export const ERR_MALFORMED: i32 = 4;
export const ERR_INTEGER_RANGE: i32 = 5;
export const ERR_VERSION: i32 = 6;
export const ERR_LIMIT: i32 = 7;

// Field kinds.
export const K_U64: u32 = 1;
export const K_NODE: u32 = 2;
export const K_STR: u32 = 3;
export const K_OPT_STR: u32 = 4;
export const K_BYTES: u32 = 5;
export const K_OPT_BYTES: u32 = 6;
export const K_NODES: u32 = 7;
export const K_ENTRIES: u32 = 8;
export const K_ENUM8: u32 = 9;

// Each slot is 16 bytes: see src/codec/wasm-codec.ts for who writes what.
export const SLOT_BYTES: u32 = 16;
// One entry in an entry table: f64 index, f64 term, u32 type, u32 ptr, u32 len, 4 spare.
export const ENTRY_RECORD_BYTES: u32 = 32;

// Per type: the field kinds in wire order (an enum8 kind is followed by its largest code), then 0.
const S_REQUEST_VOTE = memory.data<u8>([2, 2, 1, 2, 1, 1, 0]);
const S_REQUEST_VOTE_RESPONSE = memory.data<u8>([2, 2, 1, 0]);
const S_APPEND_ENTRIES = memory.data<u8>([2, 2, 1, 2, 1, 1, 1, 1, 8, 0]);
const S_APPEND_ENTRIES_RESPONSE = memory.data<u8>([2, 2, 1, 1, 1, 1, 1, 0]);
const S_INSTALL_SNAPSHOT = memory.data<u8>([2, 2, 1, 2, 1, 1, 1, 7, 7, 5, 0]);
const S_INSTALL_SNAPSHOT_RESPONSE = memory.data<u8>([2, 2, 1, 1, 1, 0]);
const S_TIMEOUT_NOW = memory.data<u8>([2, 2, 1, 2, 0]);
const S_CLIENT_REQUEST = memory.data<u8>([9, 4, 3, 6, 6, 1, 3, 1, 0]);
const S_CLIENT_REPLY = memory.data<u8>([9, 5, 3, 6, 4, 0]);
const S_TASK_ENVELOPE = memory.data<u8>([3, 3, 5, 1, 1, 1, 1, 0]);
const S_RESULT_ENVELOPE = memory.data<u8>([3, 9, 4, 5, 4, 0]);

/** The schema of a type code, or 0 when the type is unknown. */
export function schemaOf(type: u32): usize {
  switch (type) {
    case 1: return S_REQUEST_VOTE;
    case 2: return S_REQUEST_VOTE_RESPONSE;
    case 3: return S_APPEND_ENTRIES;
    case 4: return S_APPEND_ENTRIES_RESPONSE;
    case 5: return S_INSTALL_SNAPSHOT;
    case 6: return S_INSTALL_SNAPSHOT_RESPONSE;
    case 7: return S_TIMEOUT_NOW;
    case 16: return S_CLIENT_REQUEST;
    case 17: return S_CLIENT_REPLY;
    case 18: return S_TASK_ENVELOPE;
    case 19: return S_RESULT_ENVELOPE;
    default: return 0;
  }
}

/** How many header flag bits a type defines (the rest must be zero). */
export function flagCountOf(type: u32): u32 {
  switch (type) {
    case 1: return 2; // preVote, leadershipTransfer
    case 2: return 2; // voteGranted, preVote
    case 4: return 1; // success
    case 5: return 1; // done
    case 6: return 1; // success
    default: return 0;
  }
}
