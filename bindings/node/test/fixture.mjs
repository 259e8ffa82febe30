// The policy and the server the SDK tests share.
import tg from '../lib/index.js';

export const SOURCE = `
policy "node-guard" version "1";
role reader;
role writer: reader;
attribute args.tone: string;

rule "read-tools": allow role reader to call tool "get_*";
rule "write-tools": allow role writer to call tool "set_*" when not tool.destructive;
rule "docs": allow role reader to read resource "docs://**";
rule "greet": allow role reader to get prompt "greet" when args.tone == "polite";
allow anyone to list tools;
allow anyone to list resources;
allow anyone to list prompts;
deny principal "mallory" to do anything because "blocked";
`;

export const policy = tg.Policy.compile(SOURCE, { path: 'guard.tg' });
