#!/usr/bin/env node
// Holds an appointment slot, books it from the hold and confirms it, over the Bookings gRPC API.
//
// The stubs are built at run time from the repository's protos/ with @grpc/proto-loader: no
// code generation step. Configuration comes from the environment:
//   BOOKINGS_TOKEN    a bearer token (`bookings token mint --site demo-site --identity owner`)
//   BOOKINGS_ADDRESS  host:port of the server (default localhost:50051)
//   BOOKINGS_CA_FILE  PEM CA certificates to trust: speak TLS (default: plaintext)
//   BOOKINGS_CLIENT_CERT_FILE, BOOKINGS_CLIENT_KEY_FILE  a PEM client certificate and its key,
//                     for a server that requires them (mTLS; needs BOOKINGS_CA_FILE)
//
// Exit status: 0 when the booking is confirmed, 1 on a gRPC error (its status and the
// google.rpc.ErrorInfo reason are printed), 2 when the catalog has nothing to book.
'use strict';

const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const protobuf = require('protobufjs');

const PROTO_ROOT = path.resolve(__dirname, '..', '..', 'protos');
const DEADLINE_MS = 10_000;
const DAY_MS = 24 * 60 * 60 * 1000;
// How long the slot is held while the customer "checks out" (the server allows 30 minutes).
const HOLD_SECONDS = 5 * 60;

// keepCase keeps the proto field names (booked_entity, not bookedEntity); enums come back as
// their names; int64 values (revision, Timestamp.seconds) as strings so no precision is lost;
// empty repeated fields as [] rather than missing.
const packageDefinition = protoLoader.loadSync(
  [
    'bookings/v1/catalog_service.proto',
    'bookings/v1/availability_service.proto',
    'bookings/v1/bookings_service.proto',
  ],
  { includeDirs: [PROTO_ROOT], keepCase: true, longs: String, enums: String, arrays: true, oneofs: true },
);
const bookingsV1 = grpc.loadPackageDefinition(packageDefinition).bookings.v1;

// The error model of the API: a google.rpc.Status in the grpc-status-details-bin trailer whose
// details hold an ErrorInfo (the Wix-style reason) and, for invalid fields, a BadRequest.
// Declared inline (wire-compatible subsets) so the example needs no googleapis checkout.
const errorModel = protobuf.parse(`
  syntax = "proto3";
  package google.rpc;
  message Any { string type_url = 1; bytes value = 2; }
  message Status { int32 code = 1; string message = 2; repeated Any details = 3; }
  message ErrorInfo { string reason = 1; string domain = 2; map<string, string> metadata = 3; }
  message BadRequest {
    message FieldViolation { string field = 1; string description = 2; }
    repeated FieldViolation field_violations = 1;
  }
`, { keepCase: true }).root;

function main() {
  const token = process.env.BOOKINGS_TOKEN;
  if (!token) {
    fail(2, 'BOOKINGS_TOKEN is not set; mint one with `bookings token mint --site demo-site --identity owner`');
  }
  const address = process.env.BOOKINGS_ADDRESS || 'localhost:50051';
  const credentials = channelCredentials();
  const clients = {
    catalog: new bookingsV1.CatalogService(address, credentials),
    availability: new bookingsV1.AvailabilityService(address, credentials),
    bookings: new bookingsV1.BookingsService(address, credentials),
  };
  return bookAndConfirm(clients, token);
}

// Plaintext without BOOKINGS_CA_FILE; TLS verifying the server against those CAs with it; mTLS
// when a client certificate and key are given too.
function channelCredentials() {
  const caFile = process.env.BOOKINGS_CA_FILE;
  const certFile = process.env.BOOKINGS_CLIENT_CERT_FILE;
  const keyFile = process.env.BOOKINGS_CLIENT_KEY_FILE;
  if (!caFile) {
    if (certFile || keyFile) fail(2, 'a client certificate needs TLS: set BOOKINGS_CA_FILE too');
    return grpc.credentials.createInsecure();
  }
  if (Boolean(certFile) !== Boolean(keyFile)) {
    fail(2, 'set both BOOKINGS_CLIENT_CERT_FILE and BOOKINGS_CLIENT_KEY_FILE, or neither');
  }
  const read = (file) => (file ? fs.readFileSync(file) : null);
  return grpc.credentials.createSsl(read(caFile), read(keyFile), read(certFile));
}

async function bookAndConfirm({ catalog, availability, bookings }, token) {
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  const call = (client, method, request) => unary(client, method, request, metadata);

  const { services } = await call(catalog, 'ListServices', { page_size: 100 });
  console.log(`services on the site (${services.length}):`);
  for (const service of services) {
    console.log(`  - ${service.name} [${service.type}] id=${service.id}`);
  }
  // An appointment that needs no manual approval, so ConfirmOrDeclineBooking can confirm it.
  const service = services.find(
    (s) => s.type === 'SERVICE_TYPE_APPOINTMENT' && !(s.online_booking && s.online_booking.require_manual_approval),
  );
  if (!service) fail(2, 'the site has no appointment service without manual approval');

  const now = Date.now();
  const { availability_entries: entries, timezone } = await call(availability, 'QueryAvailability', {
    service_id: [service.id],
    start_date: timestamp(now),
    end_date: timestamp(now + 7 * DAY_MS),
    bookable: true,
    page_size: 10,
  });
  console.log(`bookable slots of "${service.name}" in the next 7 days (first page): ${entries.length}`);
  if (entries.length === 0) fail(2, `"${service.name}" has no bookable slot in the next 7 days`);
  const entry = entries[0];
  const staff = entry.slot.resource ? entry.slot.resource.name || entry.slot.resource.id : 'anyone';
  console.log(`holding the first one: ${entry.local_start_date} ${timezone} with ${staff}`);

  // The hold keeps the slot while the customer fills in the form: nobody else can take it.
  const { hold } = await call(bookings, 'CreateHold', {
    booked_entity: { slot: entry.slot },
    total_participants: 1,
    ttl: { seconds: String(HOLD_SECONDS) },
    request_id: crypto.randomUUID(),
  });
  console.log(`hold ${hold.id}: the slot is kept until ${isoString(hold.expires_date)}`);

  // The booking takes the hold's slot and participants: only the contact details are new.
  const { booking: created } = await call(bookings, 'CreateBooking', {
    booking: {
      contact_details: { first_name: 'Ada', last_name: 'Lovelace', email: 'ada@example.com' },
    },
    hold_id: hold.id,
    request_id: crypto.randomUUID(),
  });
  console.log(
    `created booking ${created.id} from hold ${created.hold_id}: ${created.status}, revision ${created.revision}`,
  );

  const { booking: decided } = await call(bookings, 'ConfirmOrDeclineBooking', {
    booking_id: created.id,
    revision: created.revision,
  });
  console.log(
    `confirmed booking ${decided.id}: ${decided.status}, payment ${decided.payment_status}, ` +
      `revision ${decided.revision}, ${isoString(decided.start_date)} - ${isoString(decided.end_date)}`,
  );
  if (decided.status !== 'BOOKING_STATUS_CONFIRMED') {
    fail(1, `the booking was not confirmed: ${decided.status}`);
  }
}

function unary(client, method, request, metadata) {
  return new Promise((resolve, reject) => {
    const deadline = new Date(Date.now() + DEADLINE_MS);
    client[method](request, metadata, { deadline }, (error, response) => {
      if (error) {
        error.method = method;
        reject(error);
      } else {
        resolve(response);
      }
    });
  });
}

function timestamp(milliseconds) {
  return { seconds: String(Math.floor(milliseconds / 1000)), nanos: 0 };
}

// proto3 leaves zero fields out: a Timestamp with nanos 0 has no `nanos`.
function isoString(ts) {
  if (!ts) return '-';
  return new Date(Number(ts.seconds || 0) * 1000 + Math.floor((ts.nanos || 0) / 1e6)).toISOString();
}

// Prints a failed call: status code and message, then the ErrorInfo and BadRequest details.
function describeRpcError(error) {
  const lines = [`${error.method} failed: ${grpc.status[error.code]} (${error.code}): ${error.details}`];
  const [detailsBin] = error.metadata ? error.metadata.get('grpc-status-details-bin') : [];
  if (!detailsBin) return lines;
  const status = errorModel.lookupType('google.rpc.Status').decode(detailsBin);
  for (const detail of status.details) {
    const typeName = detail.type_url.split('/').pop();
    if (typeName === 'google.rpc.ErrorInfo') {
      const info = errorModel.lookupType('google.rpc.ErrorInfo').decode(detail.value);
      lines.push(`reason: ${info.reason} (domain ${info.domain}) metadata: ${JSON.stringify(info.metadata)}`);
    } else if (typeName === 'google.rpc.BadRequest') {
      const badRequest = errorModel.lookupType('google.rpc.BadRequest').decode(detail.value);
      for (const violation of badRequest.field_violations) {
        lines.push(`field ${violation.field}: ${violation.description}`);
      }
    }
  }
  return lines;
}

function fail(exitCode, message) {
  const error = new Error(message);
  error.exitCode = exitCode;
  throw error;
}

Promise.resolve()
  .then(main)
  .then(() => process.exit(0))
  .catch((error) => {
    const lines = error.code !== undefined && error.metadata ? describeRpcError(error) : [error.message];
    for (const line of lines) console.error(`error: ${line}`);
    process.exit(error.exitCode || 1);
  });
