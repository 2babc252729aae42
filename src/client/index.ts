export { AicClient, ClientSession, clientOptionsFrom, createClient, type ClientCompressResult, type ClientFallbackReason, type ClientOptions, type ClientStats } from './client.js';
