import { LOCAL_CREDENTIALS, type LocalInfo } from '../contract/local';

/*
 * What `npm start` prints as `export` lines: everything a consumer needs to reach the local queue, in the
 * variables every AWS SDK reads (region, credentials, the service endpoints: AWS_ENDPOINT_URL_SQS and
 * AWS_ENDPOINT_URL_S3 in the JavaScript SDK v3, boto3 1.28+, the AWS CLI), so the README's consumer runs
 * against `npm start` and, without these lines, against AWS unchanged. AWS_DEFAULT_REGION too: AWS CLI v1
 * and older boto3 read only that one. The S3 endpoint is an IP address, which every SDK addresses by path,
 * as fauxqs serves buckets.
 */
export function exportLines(info: LocalInfo): string[] {
  return [
    `  export N3_CALLBACK_BASE=${info.baseUrl}`,
    `  export N3_QUEUE_URL=${info.queueUrl}`,
    `  export AWS_REGION=${info.region} AWS_DEFAULT_REGION=${info.region}`,
    `  export AWS_ACCESS_KEY_ID=${LOCAL_CREDENTIALS.accessKeyId} AWS_SECRET_ACCESS_KEY=${LOCAL_CREDENTIALS.secretAccessKey}`,
    `  export AWS_ENDPOINT_URL_SQS=${info.sqsEndpoint} AWS_ENDPOINT_URL_S3=${info.s3Endpoint}`,
  ];
}
