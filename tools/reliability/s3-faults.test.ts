// Campaign 2: faulty S3 — operations on image backups through FaultyS3Proxy on radosgw (see s3-faults.ts).
import { registerS3FaultCampaign } from './s3-faults-register.js';

registerS3FaultCampaign(false);
