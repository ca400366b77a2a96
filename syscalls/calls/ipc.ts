// Message queues: named or private queues of byte messages, for the message-passing designs.

import { msgqCreate, msgqOpen, msgqSend, msgqRecv, msgqDestroy, MSGQ_MAX_MESSAGES, MSGQ_MAX_SIZE } from '../../kernel/proc/ipc.js';
import { defineSyscall } from '../table.js';

export const ipcCalls = [
  defineSyscall({
    number: 1010, name: 'msgq_create',
    args: [
      { name: 'name', type: 'string', default: '' }, { name: 'mode', type: 'mode', default: 0o600 },
      { name: 'maxmsgs', type: 'size', default: MSGQ_MAX_MESSAGES }, { name: 'msgsize', type: 'size', default: MSGQ_MAX_SIZE },
    ],
    doc: 'a new queue (name "" : private, known by its id); returns the queue id',
    handler: (k, t, [name, mode, maxMessages, maxSize]) => msgqCreate(k, t.process.cred, name, { mode, maxMessages, maxSize }),
  }),
  defineSyscall({
    number: 1011, name: 'msgq_open', args: [{ name: 'name', type: 'string' }],
    handler: (k, t, [name]) => msgqOpen(k, t.process.cred, name),
  }),
  defineSyscall({
    number: 1012, name: 'msgq_send', args: [{ name: 'qid', type: 'int' }, { name: 'buf', type: 'ptr' }, { name: 'len', type: 'size' }],
    blocking: true, doc: 'enqueue a message of `len` bytes; blocks while the queue is full',
    handler: (k, t, [qid, buf, len]) => msgqSend(k, t, qid, buf, len),
  }),
  defineSyscall({
    number: 1013, name: 'msgq_recv', args: [{ name: 'qid', type: 'int' }, { name: 'buf', type: 'ptr' }, { name: 'cap', type: 'size' }],
    blocking: true, doc: 'dequeue the oldest message into `buf`; returns its length; blocks while empty; E2BIG if it does not fit',
    handler: (k, t, [qid, buf, cap]) => msgqRecv(k, t, qid, buf, cap),
  }),
  defineSyscall({
    number: 1014, name: 'msgq_destroy', args: [{ name: 'qid', type: 'int' }],
    handler: (k, t, [qid]) => {
      msgqDestroy(k, t.process.cred, qid);
      return 0;
    },
  }),
];
